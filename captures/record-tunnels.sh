#!/usr/bin/env bash
# Re-records vxlan-tunnel-download.pcap: curl downloads two files from nginx through a
# VXLAN tunnel (VNI 42, UDP 4789) made by the Linux kernel between two network
# namespaces, captured on the underlay link, so every frame is the outer Ethernet + IPv4 +
# UDP + VXLAN around the inner Ethernet + IPv4 + TCP of the download.
#
# No packet leaves the machine. Run as root:   sudo bash captures/record-tunnels.sh
# (GRE and IP-in-IP are not recorded: the kernel this was made on has no gre/ipip module;
# tests/encapsulation.rs builds those frames instead.) The served files come from fixed
# seeds; their SHA-256 go to tunnels-served-sha256.txt.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=serve-lib.sh
. "$HERE/serve-lib.sh"
[[ $EUID -eq 0 ]] || { echo "record-tunnels.sh: must be run as root" >&2; exit 1; }
for c in ip tcpdump nginx curl python3 sha256sum ethtool; do
    command -v "$c" >/dev/null 2>&1 || {
        echo "record-tunnels.sh: missing $c (apt-get install iproute2 tcpdump nginx-light curl ethtool)" >&2
        exit 1
    }
done

A=tsvx-cli B=tsvx-srv
WORK=$(mktemp -d /tmp/tcpscope-vx.XXXXXX)
chmod 755 "$WORK"
log() { printf '[record-tunnels] %s\n' "$*" >&2; }
cleanup() {
    local ns
    for ns in $A $B; do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true; done
    sleep 0.2
    for ns in $A $B; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
for ns in $A $B; do ip netns del "$ns" 2>/dev/null || true; done

for ns in $A $B; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # No IPv6 neighbour discovery or MLD inside the tunnel: only the download in it.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add ua netns $A type veth peer name ub netns $B
ip -n $A link set ua address 02:00:0a:63:00:01
ip -n $B link set ub address 02:00:0a:63:00:02
ip -n $A addr add 10.99.0.1/24 dev ua
ip -n $B addr add 10.99.0.2/24 dev ub
ip -n $A link set ua up
ip -n $B link set ub up
ip -n $A neigh add 10.99.0.2 lladdr 02:00:0a:63:00:02 dev ua
ip -n $B neigh add 10.99.0.1 lladdr 02:00:0a:63:00:01 dev ub
ip -n $A link add vx0 type vxlan id 42 local 10.99.0.1 remote 10.99.0.2 dstport 4789 dev ua
ip -n $B link add vx0 type vxlan id 42 local 10.99.0.2 remote 10.99.0.1 dstport 4789 dev ub
ip -n $A link set vx0 address 02:00:ac:1f:00:01
ip -n $B link set vx0 address 02:00:ac:1f:00:02
ip -n $A addr add 172.31.0.1/24 dev vx0
ip -n $B addr add 172.31.0.2/24 dev vx0
for ns in $A $B; do
    for dev in vx0 $([[ $ns == "$A" ]] && echo ua || echo ub); do
        ip netns exec "$ns" ethtool -K "$dev" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    done
    ip -n "$ns" link set vx0 up
done
# Static neighbours inside the tunnel too: no ARP in it.
ip -n $A neigh add 172.31.0.2 lladdr 02:00:ac:1f:00:02 dev vx0
ip -n $B neigh add 172.31.0.1 lladdr 02:00:ac:1f:00:01 dev vx0

DOC=$WORK/www
serve_files "$DOC" 4789 60000 "inside the tunnel"
start_nginx $B "$WORK" "$DOC" 172.31.0.2

OUT=$HERE/vxlan-tunnel-download.pcap
log "recording $(basename "$OUT")"
ip netns exec $A tcpdump -i ua -s 0 -U -w "$OUT" 'udp port 4789' 2>/dev/null &
TD=$!
sleep 1
ip netns exec $A curl -sS -o /dev/null -o /dev/null http://172.31.0.2/blob.bin http://172.31.0.2/small.txt
# Let tcpdump read the last packets (the closing FINs) before it is stopped.
sleep 2
kill -INT $TD
wait $TD 2>/dev/null || true
write_served "$DOC" "$HERE/tunnels-served-sha256.txt"
log "done: $(basename "$OUT"), tunnels-served-sha256.txt"
