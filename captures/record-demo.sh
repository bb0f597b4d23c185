#!/usr/bin/env bash
# Re-records the bundled captures of `tcpscope demo` (captures/demo-SCENARIO.pcap),
# which the demo replays when it may not capture. Everything runs on 127.0.0.1; no
# packet leaves this machine. Run as root from anywhere:
#     sudo bash captures/record-demo.sh [path/to/tcpscope]
# Without an argument the debug binary is built and used. The binary embeds these
# files, so rebuild it afterwards.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $EUID -ne 0 ]]; then
    echo "record-demo.sh: must be run as root (live capture on lo)" >&2
    exit 1
fi
BIN=${1:-}
if [[ -z $BIN ]]; then
    (cd "$HERE/.." && cargo build --quiet)
    BIN=$HERE/../target/debug/tcpscope
fi
for s in $("$BIN" demo --list | awk '{print $1}'); do
    out=$HERE/demo-$s.pcap
    "$BIN" demo --scenario "$s" -w "$out.tmp" --format json >/dev/null 2>"$out.log" || {
        cat "$out.log" >&2; rm -f "$out.tmp" "$out.log"; exit 1; }
    if grep -q "dropped by the kernel" "$out.log" && ! grep -q " 0 dropped by the kernel" "$out.log"; then
        echo "record-demo.sh: $s: packets dropped, not replacing $out" >&2
        rm -f "$out.tmp" "$out.log"; exit 1
    fi
    mv "$out.tmp" "$out"
    rm -f "$out.log"
    printf '%-14s %s\n' "$s" "$("$BIN" report "$out" | awk 'NR==2{print $5, $6, "packets "$9, "http "$11}')"
done
