#!/usr/bin/env bash
# Re-records tcp-fast-open.pcap: curl (--tcp-fastopen) fetches a small file from nginx
# (listen ... fastopen=16) three times, each on a new connection. The first connection
# asks for a Fast Open cookie (an empty SYN with the TFO option) and gets one in the
# SYN-ACK; the next two send the HTTP request inside the SYN itself (RFC 7413), and the
# server acknowledges the request with its SYN-ACK (ack = 1 + the request's length).
# Then the server turns Fast Open off, and a fourth fetch's SYN carries the request with
# the cookie the client still holds: the SYN-ACK acknowledges only the SYN, and the client
# sends the request again after the handshake.
#
# Everything happens inside two private network namespaces created here; no packet
# leaves the machine. Run as root:   sudo bash captures/record-tfo.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=serve-lib.sh
. "$HERE/serve-lib.sh"
[[ $EUID -eq 0 ]] || { echo "record-tfo.sh: must be run as root" >&2; exit 1; }
for c in ip tcpdump nginx curl python3 sha256sum ethtool sysctl; do
    command -v "$c" >/dev/null 2>&1 || {
        echo "record-tfo.sh: missing $c (apt-get install iproute2 tcpdump nginx-light curl ethtool procps)" >&2
        exit 1
    }
done

NSS=(tstfo-cli tstfo-srv)
WORK=$(mktemp -d /tmp/tcpscope-tfo.XXXXXX)
chmod 755 "$WORK"
log() { printf '[record-tfo] %s\n' "$*" >&2; }

cleanup() {
    local ns
    for ns in "${NSS[@]}"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    done
    sleep 0.2
    for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done

C=tstfo-cli S=tstfo-srv
for ns in "${NSS[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # Fast Open as client and as server (1 | 2).
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fastopen=3
done
ip link add cli0 netns $C type veth peer name srv0 netns $S
ip -n $C link set cli0 address 02:00:0a:5a:00:01
ip -n $S link set srv0 address 02:00:0a:5a:00:02
for pair in "$C cli0" "$S srv0"; do
    set -- $pair
    # Wire-sized segments and real checksums in the capture.
    ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$1" link set "$2" up
done
ip -n $C addr add 10.90.0.1/24 dev cli0
ip -n $S addr add 10.90.0.2/24 dev srv0
# Static neighbours: no ARP in the capture.
ip -n $C neigh add 10.90.0.2 lladdr 02:00:0a:5a:00:02 dev cli0
ip -n $S neigh add 10.90.0.1 lladdr 02:00:0a:5a:00:01 dev srv0

DOC=$WORK/www
serve_files "$DOC" 20261203 20000 "sent in the SYN"
# Fast Open on the listening socket.
start_nginx $S "$WORK" "$DOC" 10.90.0.2 fastopen=16

OUT=$HERE/tcp-fast-open.pcap
log "recording $(basename "$OUT")"
ip netns exec $C tcpdump -i cli0 -s 0 -U -w "$OUT" tcp 2>/dev/null &
TD=$!
sleep 1
for _ in 1 2 3; do
    ip netns exec $C curl -sS --tcp-fastopen -o /dev/null http://10.90.0.2/small.txt
done
# The server turns Fast Open off and nginx listens without it; the client still holds
# its cookie, so its SYN carries the request, and the SYN-ACK acknowledges only the SYN:
# the client sends the request again after the handshake.
kill "$(cat "$WORK/nginx.pid")"
sleep 0.3
ip netns exec $S sysctl -qw net.ipv4.tcp_fastopen=0
start_nginx $S "$WORK" "$DOC" 10.90.0.2
ip netns exec $C curl -sS --tcp-fastopen -o /dev/null http://10.90.0.2/small.txt
# Let tcpdump read the last packets (the closing FINs) before it is stopped.
sleep 2
kill -INT $TD
wait $TD 2>/dev/null || true
log "done: $(basename "$OUT")"
