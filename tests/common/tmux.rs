//! Driving the real binary in a tmux pane, for end-to-end tests.

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of the test's own (`-L sock`) with one session `name`; killed on drop.
pub struct Tmux {
    pub sock: String,
    pub name: String,
}

impl Tmux {
    /// A `w`×`h` session named `name` running `sh` with prompt `$ ` (and `env` such as
    /// `TMPDIR=...`), on a server of the test's own; None (with a message) without tmux.
    pub fn shell(name: &str, w: u16, h: u16, env: &[&str]) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("skipping: tmux is not installed");
            return None;
        }
        let t = Tmux {
            sock: format!("tcpscope-{name}-{}", std::process::id()),
            name: name.into(),
        };
        let (w, h) = (w.to_string(), h.to_string());
        let mut args = vec![
            "new-session",
            "-d",
            "-x",
            &w,
            "-y",
            &h,
            "-s",
            name,
            "env",
            "PS1=$ ",
            "TERM=xterm-256color",
        ];
        args.extend_from_slice(env);
        args.push("sh");
        t.run(&args);
        t.wait("the shell", |p| p.contains('$'));
        Some(t)
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.sock])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, k: &[&str]) {
        let mut a = vec!["send-keys", "-t", &self.name];
        a.extend_from_slice(k);
        self.run(&a);
    }

    pub fn pane(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.name])
    }

    /// Copy everything the pane's programs write, escape sequences included, to `log`
    /// (so that what showed for a moment and was wiped is still seen).
    pub fn record(&self, log: &std::path::Path) {
        let cmd = format!("cat >> '{}'", log.display());
        self.run(&["pipe-pane", "-o", "-t", &self.name, &cmd]);
    }

    /// Wait until the pane satisfies `f` (panics with the last pane after 20 s).
    pub fn wait(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let t0 = Instant::now();
        loop {
            let p = self.pane();
            if f(&p) {
                return p;
            }
            if t0.elapsed() > Duration::from_secs(20) {
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
