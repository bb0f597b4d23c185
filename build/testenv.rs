//! What this machine offers the tests, as cfgs: a test that needs what is missing is
//! compiled with `#[ignore = "needs ..."]` (`cfg_attr(not(tcpscope_...), ignore = ...)`),
//! so `cargo test` lists it as ignored, with the reason, instead of passing it silently.
//!
//! - `tcpscope_public_captures`: the shared public captures (`../shared/captures/public`
//!   beside the repo, or `TCPSCOPE_PUBLIC_CAPTURES`) with their MANIFEST.tsv;
//! - `tcpscope_root`: the build runs as root (live capture, network namespaces);
//! - `tcpscope_tmux`, `tcpscope_hping3`, `tcpscope_python3`, `tcpscope_tshark`,
//!   `tcpscope_editcap`: the program is on PATH.
//!
//! With `TCPSCOPE_CI=1` (set by .ci/run), missing public captures stop the build: CI
//! must not pass by skipping them.
//!
//! Found once per build-script run: the public captures' folder is watched when it (or
//! its parent in ../shared) exists, PATH and the variables above always; after installing
//! a program, `touch build.rs` (or `cargo clean -p tcpscope`) to find it.

use std::path::{Path, PathBuf};

pub const CFGS: [&str; 7] = [
    "tcpscope_public_captures",
    "tcpscope_root",
    "tcpscope_tmux",
    "tcpscope_hping3",
    "tcpscope_python3",
    "tcpscope_tshark",
    "tcpscope_editcap",
];

pub fn emit() -> Result<(), String> {
    for c in CFGS {
        println!("cargo::rustc-check-cfg=cfg({c})");
    }
    println!("cargo::rerun-if-env-changed=TCPSCOPE_PUBLIC_CAPTURES");
    println!("cargo::rerun-if-env-changed=TCPSCOPE_CI");
    println!("cargo::rerun-if-env-changed=PATH");
    let public = public_dir();
    if std::env::var_os("TCPSCOPE_PUBLIC_CAPTURES").is_some() {
        if public.is_dir() {
            println!("cargo::rerun-if-changed={}", public.display());
        }
    } else {
        watch(&public);
    }
    let have = public.join("MANIFEST.tsv").is_file();
    if have {
        println!("cargo::rustc-cfg=tcpscope_public_captures");
    } else if std::env::var("TCPSCOPE_CI").is_ok_and(|v| v == "1") {
        return Err(format!(
            "TCPSCOPE_CI=1 but the shared public captures are missing: no {}/MANIFEST.tsv (CI expects ../shared/captures/public beside the repo, or TCPSCOPE_PUBLIC_CAPTURES)",
            public.display()
        ));
    }
    if is_root() {
        println!("cargo::rustc-cfg=tcpscope_root");
    }
    for (cfg, program) in [
        ("tcpscope_tmux", "tmux"),
        ("tcpscope_hping3", "hping3"),
        ("tcpscope_python3", "python3"),
        ("tcpscope_tshark", "tshark"),
        ("tcpscope_editcap", "editcap"),
    ] {
        if on_path(program) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
    Ok(())
}

/// Where the tests look for the public captures (as `tests/common::public_dir`).
fn public_dir() -> PathBuf {
    match std::env::var_os("TCPSCOPE_PUBLIC_CAPTURES") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
            .join("../shared/captures/public"),
    }
}

/// Rerun when the captures come or go: watch the folder, or the nearest parent that is
/// still inside ../shared (never a wider folder: cargo scans what it watches).
fn watch(public: &Path) {
    let mut p = Some(public);
    for _ in 0..3 {
        let Some(d) = p else { return };
        if d.is_dir() {
            println!("cargo::rerun-if-changed={}", d.display());
            return;
        }
        p = d.parent();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| {
            std::fs::metadata(d.join(program)).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
    })
}
