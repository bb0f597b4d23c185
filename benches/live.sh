#!/usr/bin/env bash
# Live capture under load: tcpscope against `tcpdump -w /dev/null` on the same traffic.
# A local nginx answers wrk on 127.0.0.1:$PORT for 10 s; tcpdump and tcpscope capture it
# side by side with the same filter. Prints each tool's packet count, drops, CPU and RSS.
#
# Usage (as root): bash benches/live.sh MODE [wrk args...]
#   MODE: headless | tui | tui-buffered
#   e.g.  bash benches/live.sh tui              (keep-alive)
#         bash benches/live.sh tui -H "Connection: close"
# Needs: nginx-light, wrk, tcpdump, tmux (tui modes), GNU time. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: live.sh headless|tui|tui-buffered [wrk args...]}
shift
port=${PORT:-18090}
work=$(mktemp -d /tmp/tcpscope-live-bench.XXXXXX)
cargo build --release -q
bin=$PWD/target/release/tcpscope
filter="tcp port $port"

mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$port;
    location / { return 200 "0123456789012345678901234567890123456789012345678901234567890123"; }
  }
}
EOF
nginx -c "$work/nginx.conf"
sock=tcpscope-live-bench-$$
cleanup() {
    nginx -c "$work/nginx.conf" -s stop 2>/dev/null || true
    for _ in $(seq 50); do [ -e "$work/nginx.pid" ] || break; sleep 0.1; done
    rm -rf "$work"
    tmux -L "$sock" kill-server 2>/dev/null || true
}
trap cleanup EXIT

time_fmt='cpu user %U s sys %S s maxrss %M KB'
case $mode in
headless)
    /usr/bin/time -f "tcpscope $time_fmt" "$bin" live -i lo -f "$filter" --format ndjson \
        --duration 13 > "$work/tcpscope.ndjson" 2> "$work/tcpscope.txt" &
    ;;
tui | tui-buffered)
    extra=""
    [ "$mode" = tui-buffered ] && extra="--buffered"
    tmux -L "$sock" new-session -d -x 160 -y 40 -s m env TERM=xterm-256color sh
    sleep 0.5
    tmux -L "$sock" send-keys -t m "/usr/bin/time -f 'tcpscope $time_fmt' $bin live -i lo -f '$filter' $extra 2> $work/tcpscope.txt" Enter
    sleep 1.5
    ;;
*)
    echo "unknown mode: $mode" >&2
    exit 2
    ;;
esac
/usr/bin/time -f "tcpdump $time_fmt" timeout -s INT 12.5 \
    tcpdump -i lo -nn -w /dev/null "$filter" 2> "$work/tcpdump.txt" &
tcpdump_pid=$!
sleep 1
wrk -t1 -c20 -d10s "$@" "http://127.0.0.1:$port/" > "$work/wrk.txt" 2>&1
if [ "$mode" != headless ]; then
    sleep 0.5
    tmux -L "$sock" send-keys -t m q
fi
wait "$tcpdump_pid" || true
wait || true
sleep 2
echo "== $mode $*"
grep -E "Requests/sec|requests in" "$work/wrk.txt"
grep -E "packets captured|dropped by kernel|cpu" "$work/tcpdump.txt"
cat "$work/tcpscope.txt"
