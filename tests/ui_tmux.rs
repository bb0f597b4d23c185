//! End to end: the real binary in a real terminal (tmux). Skipped with a message when
//! tmux is not installed.

mod common;

use common::tmux::Tmux;

fn arrows(p: &str) -> usize {
    p.lines()
        .filter(|l| l.contains("▶│") || l.contains("│◀"))
        .count()
}

#[test]
#[cfg_attr(not(tcpscope_tmux), ignore = "needs tmux")]
fn open_ladder_step_and_quit_under_tmux() {
    let bin = env!("CARGO_BIN_EXE_tcpscope");
    let cap = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/http-get.pcap");
    let Some(t) = Tmux::shell("ui", 120, 40, &[]) else {
        return;
    };
    t.keys(&[&format!("{bin} {cap}"), "Enter"]);
    t.wait("the connections table", |p| {
        p.contains("10.77.2.2:80") && p.contains("1 of 1 connections")
    });
    // Open the first connection: the ladder.
    t.keys(&["Enter"]);
    // Wait for the whole ladder: a capture taken mid-redraw can miss lines.
    let p = t.wait("the ladder", |p| {
        p.contains("1 Ladder")
            && p.contains("SYN, ACK")
            && p.contains("TIME-WAIT")
            && arrows(p) == 12
    });
    assert!(p.contains("─ SYN seq=0"), "{p}");
    assert!(p.contains("ACK seq=1 ack=1"), "{p}");
    for st in ["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "TIME-WAIT"] {
        assert!(p.contains(st), "missing {st}:\n{p}");
    }
    assert_eq!(arrows(&p), 12, "{p}");
    // Step from the start: the ladder grows arrow by arrow.
    t.keys(&["Home"]);
    let p = t.wait("one arrow", |p| arrows(p) == 1);
    assert!(p.contains("playhead: frame 1/12"), "{p}");
    t.keys(&["Space"]);
    let p = t.wait("two arrows", |p| arrows(p) == 2);
    assert!(p.contains("SYN, ACK"), "{p}");
    t.keys(&["Space"]);
    t.wait("three arrows", |p| arrows(p) == 3);
    // Quit: the shell is back, in cooked mode (a typed command runs).
    t.keys(&["q"]);
    let p = t.wait("the shell back", |p| !p.contains("1 Ladder"));
    assert!(
        p.contains("http-get.pcap"),
        "the command line is visible again:\n{p}"
    );
    t.keys(&["echo restored-$((40+2))", "Enter"]);
    t.wait("the shell to run a command", |p| p.contains("restored-42"));
}

/// `tcpscope -` with a capture piped in that arrives in two parts: the UI waits for the
/// rest, shows the connection, and the hex view re-reads the frame from its copy of the
/// input, which is gone after `q`.
#[test]
#[cfg_attr(not(tcpscope_tmux), ignore = "needs tmux")]
fn piped_capture_opens_as_it_arrives_and_hex_view_works() {
    let bin = env!("CARGO_BIN_EXE_tcpscope");
    let cap = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/http-keepalive.pcap");
    let tmp = std::env::temp_dir().join(format!("tcpscope-stdin-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let Some(t) = Tmux::shell("stdin", 120, 40, &[&format!("TMPDIR={}", tmp.display())]) else {
        return;
    };
    // 1500 bytes (the handshake and first request), then the rest two seconds later.
    t.keys(&[
        &format!("{{ head -c 1500 {cap}; sleep 2; tail -c +1501 {cap}; }} | {bin} -"),
        "Enter",
    ]);
    let p = t.wait("the loading screen", |p| {
        p.contains("reading the capture as it arrives")
    });
    assert!(p.contains("standard input"), "{p}");
    assert!(!p.contains("1 of 1 connections"), "{p}");
    let spools = || std::fs::read_dir(&tmp).unwrap().count();
    assert_eq!(spools(), 1, "one copy of the input while it runs");
    t.wait("the connection", |p| {
        p.contains("10.77.2.2:80") && p.contains("1 of 1 connections") && p.contains("21")
    });
    t.keys(&["Enter"]);
    t.keys(&["2"]);
    let p = t.wait("the hex view of frame 1", |p| {
        p.contains("0000 02 00 0a 4d") && p.contains("Flags: 0x002 (SYN)")
    });
    assert!(p.contains("standard input │ 21 packets"), "{p}");
    t.keys(&["q"]);
    t.wait("the shell back", |p| {
        p.lines().filter(|l| l.starts_with('$')).count() >= 2
    });
    assert_eq!(spools(), 0, "the copy of the input is removed");
    let _ = std::fs::remove_dir(&tmp);
}

/// `tcpscope -` on a terminal says how to pipe a capture in.
#[test]
#[cfg_attr(not(tcpscope_tmux), ignore = "needs tmux")]
fn dash_on_a_terminal_explains_itself() {
    let bin = env!("CARGO_BIN_EXE_tcpscope");
    let Some(t) = Tmux::shell("tty", 160, 10, &[]) else {
        return;
    };
    t.keys(&[&format!("{bin} -"), "Enter"]);
    t.wait("the message", |p| {
        p.contains("pipe one in (`tcpdump -w - | tcpscope -`")
    });
}
