#!/usr/bin/env bash
# Re-records the bundled captures of `tcpscope demo` (captures/demo-SCENARIO.pcap, and
# demo-SCENARIO.pcapng with the key log inside for the TLS scenarios https and h2),
# which the demo replays when it may not capture. Everything runs on 127.0.0.1; no
# packet leaves this machine. Run as root from anywhere:
#     sudo bash captures/record-demo.sh [path/to/tcpscope]
# (ONLY="https h2" re-records just those scenarios.)
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
for s in ${ONLY:-$("$BIN" demo --list | awk '{print $1}')}; do
    out=$HERE/demo-$s.pcap
    "$BIN" demo --scenario "$s" -w "$out.tmp" --format json >/dev/null 2>"$out.log" || {
        cat "$out.log" >&2; rm -f "$out.tmp" "$out.log"; exit 1; }
    if grep -q "dropped by the kernel" "$out.log" && ! grep -q " 0 dropped by the kernel" "$out.log"; then
        echo "record-demo.sh: $s: packets dropped, not replacing $out" >&2
        rm -f "$out.tmp" "$out.log"; exit 1
    fi
    if [[ $s == https || $s == h2 ]]; then
        # The TLS scenarios: the client's key log (written beside the capture as
        # demo-$s.pcap.keys) goes into the recording as a Decryption Secrets Block, so
        # the replay decrypts with no key file.
        out=$HERE/demo-$s.pcapng
        editcap --inject-secrets "tls,$HERE/demo-$s.pcap.keys" "$HERE/demo-$s.pcap.tmp" "$out"
        rm -f "$HERE/demo-$s.pcap.tmp" "$HERE/demo-$s.pcap.keys" "$HERE/demo-$s.pcap.log"
    else
        mv "$out.tmp" "$out"
        rm -f "$out.log"
    fi
    printf '%-14s %s\n' "$s" "$("$BIN" report "$out" | awk 'NR==2{print $5, $6, "packets "$9, "http "$11}')"
done
