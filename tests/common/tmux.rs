//! Driving the real binary in a tmux pane, for end-to-end tests.

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of the test's own (`-L sock`) with one session `name`; killed on drop.
pub struct Tmux {
    pub sock: String,
    pub name: String,
}

impl Tmux {
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
