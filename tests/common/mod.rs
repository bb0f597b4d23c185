//! Shared helpers for integration tests: where the public captures are, and their
//! tshark oracle files.
#![allow(dead_code)]

pub mod pcap;
pub mod pcapgen;
pub mod rawpcap;
pub mod tmux;
pub mod ui;

use std::path::PathBuf;

/// The shared public capture folder (`../shared/captures/public` beside the repo, or
/// `TCPSCOPE_PUBLIC_CAPTURES`). `None`, with a message, when it is absent.
pub fn public_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TCPSCOPE_PUBLIC_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/captures/public")
        });
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else if cfg!(tcpscope_public_captures) {
        // The build found them (build/testenv.rs); a test that needs them must not pass
        // by skipping them now.
        panic!(
            "public captures not found at {} although the build found them: `touch build.rs` after moving them",
            dir.display()
        );
    } else {
        eprintln!(
            "skipping: public captures not found at {} (set TCPSCOPE_PUBLIC_CAPTURES)",
            dir.display()
        );
        None
    }
}

/// Every capture file in the public folder, sorted.
pub fn public_captures(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read public dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    v.sort();
    v
}

/// A tshark oracle table: header names and rows of fields.
pub struct Tsv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Tsv {
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }
}

pub fn oracle(dir: &std::path::Path, capture: &std::path::Path, kind: &str) -> Tsv {
    let stem = capture.file_stem().unwrap().to_string_lossy().to_string();
    let p = dir.join("oracle").join(format!("{stem}.{kind}.tsv"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or("")
        .split('\t')
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| l.split('\t').map(String::from).collect())
        .collect();
    Tsv { header, rows }
}

/// Path of the repo's own bundled capture.
pub fn bundled(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Why live capture on `lo` cannot be tested here, if it cannot (root, and a short
/// capture that succeeds); probed once per test binary.
pub fn cannot_capture() -> Option<String> {
    static WHY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    WHY.get_or_init(|| {
        if !is_root() {
            return Some("not root".into());
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tcpscope"))
            .args(["live", "-i", "lo", "--format", "json", "--duration", "0.2"])
            .args(["-f", "tcp port 1"])
            .output()
            .ok()?;
        (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
    })
    .clone()
}

/// Run the binary with `args` as user nobody (`setpriv`); None, with a message, when
/// setpriv is missing or cannot switch users here.
pub fn as_nobody(args: &[&str]) -> Option<std::process::Output> {
    if std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping: setpriv is not installed");
        return None;
    }
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&out.stderr);
    if err.starts_with("setpriv") {
        eprintln!("skipping: cannot run the binary as nobody here: {err}");
        return None;
    }
    Some(out)
}

/// A report's JSON, or a panic that shows what came instead.
pub fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(bytes));
    })
}

/// The state names one side (`client`/`server`) of a JSON connection went through.
pub fn states(c: &serde_json::Value, side: &str) -> Vec<String> {
    c["states"][side]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap().to_string())
        .collect()
}
