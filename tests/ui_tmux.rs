//! End to end: the real binary in a real terminal (tmux). Skipped with a message when
//! tmux is not installed.

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    sock: String,
    name: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.sock])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, k: &[&str]) {
        let mut a = vec!["send-keys", "-t", &self.name];
        a.extend_from_slice(k);
        self.run(&a);
    }

    fn pane(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.name])
    }

    /// Wait until the pane satisfies `f` (or time out, returning the last pane).
    fn wait(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let t0 = Instant::now();
        loop {
            let p = self.pane();
            if f(&p) {
                return p;
            }
            if t0.elapsed() > Duration::from_secs(15) {
                panic!("timed out waiting for {what}; pane:\n{p}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

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
