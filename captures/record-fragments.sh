#!/usr/bin/env bash
# Re-records ipv4-fragmented-download.pcap: curl downloads three files from nginx over a
# router whose link to the client has an MTU of 576, while the server sends without the
# don't-fragment bit (net.ipv4.ip_no_pmtu_disc=1) and the client announces a 1460-byte
# MSS: the router's kernel splits each of the server's full segments into three IPv4
# fragments, which the client's kernel puts back together. Captured on the client's side.
#
# Everything happens inside three private network namespaces created here; no packet
# leaves the machine. Run as root:   sudo bash captures/record-fragments.sh
#
# The served files are made from fixed seeds, so their SHA-256 (written to
# fragments-served-sha256.txt) are the same on every run.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=serve-lib.sh
. "$HERE/serve-lib.sh"
[[ $EUID -eq 0 ]] || { echo "record-fragments.sh: must be run as root" >&2; exit 1; }
for c in ip tcpdump nginx curl python3 sha256sum ethtool; do
    command -v "$c" >/dev/null 2>&1 || {
        echo "record-fragments.sh: missing $c (apt-get install iproute2 tcpdump nginx-light curl ethtool)" >&2
        exit 1
    }
done

NSS=(tsfrag-cli tsfrag-rtr tsfrag-srv)
WORK=$(mktemp -d /tmp/tcpscope-frag.XXXXXX)
chmod 755 "$WORK"
log() { printf '[record-fragments] %s\n' "$*" >&2; }

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
cleanup_leftovers() { for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done; }
cleanup_leftovers

C=tsfrag-cli R=tsfrag-rtr S=tsfrag-srv
for ns in "${NSS[@]}"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add cli0 netns $C type veth peer name rc0 netns $R
ip link add srv0 netns $S type veth peer name rs0 netns $R
ip -n $C link set cli0 address 02:00:0a:58:01:02
ip -n $R link set rc0 address 02:00:0a:58:01:01
ip -n $R link set rs0 address 02:00:0a:58:02:01
ip -n $S link set srv0 address 02:00:0a:58:02:02
for pair in "$C cli0" "$R rc0" "$R rs0" "$S srv0"; do
    set -- $pair
    # Wire-sized segments and real checksums in the capture.
    ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$1" link set "$2" up
done
ip -n $C addr add 10.88.1.2/24 dev cli0
ip -n $R addr add 10.88.1.1/24 dev rc0
ip -n $R addr add 10.88.2.1/24 dev rs0
ip -n $S addr add 10.88.2.2/24 dev srv0
ip -n $C route add default via 10.88.1.1
ip -n $S route add default via 10.88.2.1
# Static neighbours: no ARP in the capture.
ip -n $C neigh add 10.88.1.1 lladdr 02:00:0a:58:01:01 dev cli0
ip -n $R neigh add 10.88.1.2 lladdr 02:00:0a:58:01:02 dev rc0
ip -n $R neigh add 10.88.2.2 lladdr 02:00:0a:58:02:02 dev rs0
ip -n $S neigh add 10.88.2.1 lladdr 02:00:0a:58:02:01 dev srv0
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
# The router's side toward the client is the narrow link; the client itself keeps 1500
# (so it announces MSS 1460), and the server sends without DF, so the router fragments.
ip -n $R link set rc0 mtu 576
ip netns exec $S sysctl -qw net.ipv4.ip_no_pmtu_disc=1

DOC=$WORK/www
serve_files "$DOC" 20261202 100000 "put back together"
start_nginx $S "$WORK" "$DOC" 10.88.2.2

OUT=$HERE/ipv4-fragmented-download.pcap
log "recording $(basename "$OUT")"
ip netns exec $C tcpdump -i cli0 -s 0 -U -w "$OUT" tcp 2>/dev/null &
TD=$!
sleep 1
ip netns exec $C curl -sS -o /dev/null -o /dev/null -o /dev/null \
    http://10.88.2.2/blob.bin http://10.88.2.2/small.txt http://10.88.2.2/blob.bin
# Let tcpdump read the last packets (the closing FINs) before it is stopped.
sleep 2
kill -INT $TD
wait $TD 2>/dev/null || true
write_served "$DOC" "$HERE/fragments-served-sha256.txt"
log "done: $(basename "$OUT"), fragments-served-sha256.txt"
