//! End to end: the real binary in a real terminal (tmux). Skipped with a message when
//! tmux is not installed.

mod common;

use common::tmux::Tmux;
use std::process::Command;

fn arrows(p: &str) -> usize {
    p.lines()
        .filter(|l| l.contains("▶│") || l.contains("│◀"))
        .count()
}

#[test]
fn open_ladder_step_and_quit_under_tmux() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipping: tmux is not installed");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_tcpscope");
    let cap = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/http-get.pcap");
    let t = Tmux {
        sock: format!("tcpscope-ui-test-{}", std::process::id()),
        name: "ui".into(),
    };
    t.run(&[
        "new-session",
        "-d",
        "-x",
        "120",
        "-y",
        "40",
        "-s",
        "ui",
        "env",
        "PS1=$ ",
        "TERM=xterm-256color",
        "sh",
    ]);
    t.wait("the shell", |p| p.contains('$'));
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
