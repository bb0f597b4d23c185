#!/usr/bin/env bash
# Peak memory (VmHWM) of the file TUI once a capture is fully loaded, driven through tmux.
# Usage: bash benches/tui_mem.sh FILE [BINARY]   (docs/memory.md; the 10^6-SYN file comes
# from `python3 benches/synflood.py /tmp/syn1m.pcap`)
set -euo pipefail
f=${1:?usage: benches/tui_mem.sh FILE [BINARY]}
bin=${2:-$(dirname "$0")/../target/release/tcpscope}
s=tuimem$$
tmux new-session -d -s "$s" -x 160 -y 45 "$bin $f; sleep 30"
pid=$(tmux list-panes -t "$s" -F '#{pane_pid}')
sleep 0.5
tp=$(pgrep -P "$pid" -x tcpscope | head -1)
t0=$(date +%s.%N)
for _ in $(seq 1 3000); do
    screen=$(tmux capture-pane -p -t "$s")
    # Loaded: the status bar shows the playhead and no longer says "loading".
    if grep -q "playhead" <<<"$screen" && ! grep -q "loading" <<<"$screen"; then break; fi
    sleep 0.1
done
t1=$(date +%s.%N)
sleep 1
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$tp/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$tp/status")
echo "loaded in $(echo "$t1 - $t0" | bc) s; peak RSS (VmHWM) $hwm KiB; RSS now $rss KiB"
tmux capture-pane -p -t "$s" | tail -3
tmux kill-session -t "$s"
