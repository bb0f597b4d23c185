#!/usr/bin/env bash
# Benchmark: tcpscope against tcptrace, tshark and tcpflow on the shared HTTP workload.
# Usage: bash benches/run.sh [FLOWS]   (default 2400 flows: about 216 MB)
# Needs: python3, tcptrace, tshark, tcpflow, GNU time. Writes figures to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
flows=${1:-2400}
gen=../shared/bench/gen_http_pcap.py
work=${BENCH_DIR:-/tmp/tcpscope-bench}
mkdir -p "$work"
cargo build --release -q
bin=target/release/tcpscope

make() { # name flows requests
    local f="$work/$1.pcap"
    [ -f "$f" ] || python3 "$gen" --out "$f" --flows "$2" --requests "$3" >/dev/null
    echo "$f"
}
f1=$(make bench-1x "$flows" 5)
f4=$(make bench-4x-flows $((flows * 4)) 5)
f4r=$(make bench-4x-requests "$flows" 20)

measure() { # label cmd... : fastest of $RUNS runs (default 3), peak RSS of that run
    local label=$1; shift
    local secs=999999 kb=0 s k
    for _ in $(seq "${RUNS:-3}"); do
        /usr/bin/time -o "$work/time.txt" -f '%e %M' "$@" >/dev/null 2>&1 || true
        read -r s k < "$work/time.txt"
        if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$s" "$secs"; then
            secs=$s kb=$k
        fi
    done
    python3 -c "import sys; s=float(sys.argv[2]); print('%-34s %8.2f s %8.0f MB/s %8.0f MB' % (sys.argv[1], s, int(sys.argv[4])/1e6/max(s,0.01), int(sys.argv[3])/1024))" \
        "$label" "$secs" "$kb" "$size"
}

for f in "$f1" "$f4" "$f4r"; do
    size=$(stat -c %s "$f")
    echo "== $(basename "$f") ($((size / 1000000)) MB)"
    measure "tcpscope report --format json" "$bin" report --format json "$f"
    if [ "$f" = "$f1" ]; then
        measure "tcpscope ... --no-http" "$bin" report --format json --no-http "$f"
        measure "tcpscope ... --threads 1" "$bin" report --format json --threads 1 "$f"
        measure "tcptrace -n -l" tcptrace -n -l "$f"
        measure "tshark -q -z conv,tcp" tshark -r "$f" -q -z conv,tcp
        measure "tshark -Y http -T fields" tshark -r "$f" -Y http -T fields -e http.request.method -e http.response.code
        rm -rf "$work/tcpflow"; mkdir -p "$work/tcpflow"
        measure "tcpflow -r -o DIR" tcpflow -r "$f" -o "$work/tcpflow"
    fi
done
