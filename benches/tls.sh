#!/usr/bin/env bash
# TLS benchmark: decrypted HTTP report, tcpscope against tshark with the same key log.
# The workload is captures/tls/tls13-keepalive.pcap (nginx + curl, TLS 1.3 AES-128-GCM,
# a 600 kB body and a small one on one keep-alive connection) scaled up by
# benches/tls_scale.py to COPIES overlapping connections (default 300: about 197 MB).
# Usage: bash benches/tls.sh [COPIES]. Needs: python3, tshark, GNU time (hyperfine if
# installed). Writes figures to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-300}
work=${BENCH_DIR:-/tmp/tcpscope-bench}
mkdir -p "$work"
cargo build --release -q
bin=target/release/tcpscope
keys=captures/tls/tls13-keepalive.keys
f="$work/tls-$copies.pcap"
[ -f "$f" ] || python3 benches/tls_scale.py captures/tls/tls13-keepalive.pcap "$f" --copies "$copies"
echo "== $(basename "$f") ($(( $(stat -c %s "$f") / 1000000 )) MB, $copies connections, $((copies * 2)) exchanges)"
tcpscope=("$bin" report --keylog "$keys" --format json "$f")
tshark=(tshark -r "$f" -o "tls.keylog_file:$keys" -Y http)
# Both must see every exchange decrypted before their times mean anything.
got=$("${tcpscope[@]}" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for c in d["connections"] for x in c.get("http",[]) if x.get("response")))')
ts=$("${tshark[@]}" | grep -c 'HTTP/1.1 200' || true)
echo "exchanges with a response: tcpscope $got, tshark $ts (of $((copies * 2)))"
for cmd in tcpscope tshark; do
    declare -n c=$cmd
    /usr/bin/time -o "$work/time.txt" -f '%e %U %S %M' "${c[@]}" >/dev/null 2>&1
    read -r e u s m < "$work/time.txt"
    printf '%-9s wall %6.2f s  cpu %6.2f s  peak RSS %5d MB\n' "$cmd" "$e" "$(echo "$u + $s" | bc)" $((m / 1024))
done
if command -v hyperfine >/dev/null; then
    hyperfine -N -w 1 -r "${RUNS:-5}" "${tcpscope[*]}" "${tshark[*]}"
fi
