#!/usr/bin/env bash
# Black-box mutation fuzzing of the tcpscope binary: ./fuzz/run.sh MINUTES
#
# Mutates the captures in captures/ and ../shared/captures/public (when present) with
# bit flips, truncations, length-field lies (pcap record lengths, pcapng block lengths,
# IPv4 total length, TCP data offset) and splices of two captures, then runs every
# non-interactive command on each mutant with a timeout and a memory limit:
#   report (text, json --packets, ndjson), explain, diagram (mermaid, ascii, svg),
#   quiz --text --all, export-http.
# A panic (a "panicked" message or exit 101), a crash (killed by a signal, memory limit
# included) or a hang (the timeout) keeps its input in $OUT/findings/ with the command
# and its stderr. Totals go to $OUT/totals.txt and standard output.
#
# Environment: TCPSCOPE_BIN (default target/release/tcpscope, built if missing),
# FUZZ_OUT (default /tmp/tcpscope-fuzz), FUZZ_TIMEOUT seconds per command (default 10),
# FUZZ_MEM_KB address-space limit per command (default 2097152 = 2 GiB), FUZZ_SEED.
set -euo pipefail
minutes=${1:?usage: fuzz/run.sh MINUTES}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${TCPSCOPE_BIN:-$here/target/release/tcpscope}
out=${FUZZ_OUT:-/tmp/tcpscope-fuzz}
if [ ! -x "$bin" ]; then
    (cd "$here" && cargo build --release)
fi
mkdir -p "$out/findings"
seeds=()
for d in "$here/captures" "$here/../shared/captures/public"; do
    [ -d "$d" ] || continue
    while IFS= read -r f; do seeds+=("$f"); done < <(find "$d" -maxdepth 1 -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort)
done
[ ${#seeds[@]} -gt 0 ] || { echo "no seed captures found" >&2; exit 2; }
exec python3 "$here/fuzz/mutate.py" "$minutes" "$bin" "$out" "${seeds[@]}"
