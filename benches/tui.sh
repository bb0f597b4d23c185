#!/usr/bin/env bash
# Time to first screen, time to fully loaded and peak memory (whole process tree) of the
# TUI opening a capture, side by side with termshark, driven through tmux.
# Usage: bash benches/tui.sh FILE
set -euo pipefail
cd "$(dirname "$0")/.."
f=${1:?usage: benches/tui.sh FILE}
cargo build --release -q
bin=$PWD/target/release/tcpscope

tree_rss_kb() { # sum of RSS of a process and all its descendants
    local pids
    pids=$(pstree -p "$1" 2>/dev/null | grep -o '([0-9]*)' | tr -d '()' | paste -sd, -)
    [ -n "$pids" ] || { echo 0; return; }
    { ps -o rss= -p "$pids" 2>/dev/null || true; } | awk '{s+=$1} END {print s+0}'
}

measure() { # name, command, regex for "first screen", "loaded" check (shell, gets the screen)
    local name=$1 cmd=$2 first_re=$3 done_check=$4
    tmux kill-session -t tuibench 2>/dev/null || true
    local t0 t_first="" t_done="" peak=0 pid screen now
    t0=$(date +%s.%N)
    tmux new-session -d -s tuibench -x 160 -y 45 "$cmd"
    pid=$(tmux list-panes -t tuibench -F '#{pane_pid}')
    for i in $(seq 1 1500); do
        screen=$(tmux capture-pane -p -t tuibench 2>/dev/null || true)
        now=$(date +%s.%N)
        # Memory every 10th look only: walking the process tree is slow.
        if [ $((i % 10)) -eq 0 ]; then rss=$(tree_rss_kb "$pid"); [ "$rss" -gt "$peak" ] && peak=$rss; fi
        if [ -z "$t_first" ] && grep -Eq "$first_re" <<<"$screen"; then t_first=$now; fi
        if [ -n "$t_first" ] && $done_check "$screen"; then t_done=$now; break; fi
        sleep 0.02
    done
    for _ in 1 2 3 4 5 6; do rss=$(tree_rss_kb "$pid"); [ "$rss" -gt "$peak" ] && peak=$rss; sleep 0.2; done
    tmux kill-session -t tuibench 2>/dev/null || true
    python3 -c "import sys; t0=float(sys.argv[2]); f=sys.argv[3]; d=sys.argv[4]; print('%-10s first screen %6s s   fully loaded %6s s   peak RSS %6.0f MB' % (sys.argv[1], '%.2f' % (float(f)-t0) if f else '-', '%.2f' % (float(d)-t0) if d else '-', int(sys.argv[5])/1024))" \
        "$name" "$t0" "$t_first" "$t_done" "$peak"
}

tcpscope_loaded() { grep -Eq "[0-9]+ packets │ [0-9]+ conns" <<<"$1" && ! grep -q "loading" <<<"$1"; }
# termshark loads through `tshark -T psml`: loaded when that child has exited.
termshark_loaded() { ! pgrep -f "T psml" >/dev/null; }

echo "== $f ($(( $(stat -c %s "$f") / 1000000 )) MB)"
# tcpscope: the table (or the progress bar) is the first screen; loaded when the status
# bar no longer says "loading" and shows the packet count.
measure tcpscope "$bin $f" "tcpscope" tcpscope_loaded
# termshark: first screen when its packet list shows its first row.
measure termshark "termshark -r $f" "^ *1 +0\.0+ " termshark_loaded
