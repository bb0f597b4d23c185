//! Finding libpcap to link against (the `pcap` crate asks for `-lpcap`).
//!
//! The linker needs `libpcap.so`, a link that only the development package (Debian's
//! `libpcap-dev`) installs. The runtime library (`libpcap.so.0.8` on Debian, `libpcap.so.1`
//! elsewhere) is there wherever tcpdump or Wireshark is: when only it is found, a
//! `libpcap.so` link to it is made in OUT_DIR and the linker is pointed there (link search
//! paths of a package's build script apply to the package's own links: its binaries and
//! tests, where `-lpcap` is resolved). No header is needed: the `pcap` crate declares the
//! functions itself.
//!
//! `TCPSCOPE_LIBPCAP_SEARCH_DIRS` (colon-separated) replaces the directories searched and
//! turns off `ldconfig -p`: the tests use it to stage a machine with only the runtime
//! library, or none. `LIBPCAP_LIBDIR` (the `pcap` crate's own setting) is left to it.

use std::path::{Path, PathBuf};

/// The one line a machine without libpcap gets.
pub const MISSING: &str = "tcpscope needs libpcap and none was found: install libpcap-dev (Debian/Ubuntu: apt install libpcap-dev), libpcap-devel (Fedora: dnf install libpcap-devel); on macOS it ships with the OS and the Xcode Command Line Tools (xcode-select --install, or brew install libpcap)";

/// Point the linker at a libpcap, or say which package to install.
pub fn link() -> Result<(), String> {
    println!("cargo::rerun-if-env-changed=TCPSCOPE_LIBPCAP_SEARCH_DIRS");
    println!("cargo::rerun-if-env-changed=LIBPCAP_LIBDIR");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    // macOS and the BSDs have libpcap in the system (macOS: in the SDK, as a stub);
    // Windows builds need Npcap's SDK, which the `pcap` crate documents.
    if os != "linux" || std::env::var_os("LIBPCAP_LIBDIR").is_some() {
        return Ok(());
    }
    let (dirs, use_ldconfig) = match std::env::var("TCPSCOPE_LIBPCAP_SEARCH_DIRS") {
        Ok(v) => (split(&v), false),
        // pkg-config knows where the development files are: the `pcap` crate asks it too.
        Err(_) if pkg_config_has_libpcap() => return Ok(()),
        Err(_) => (default_dirs(), true),
    };
    let found = if use_ldconfig {
        find(&dirs, &ldconfig_paths())
    } else {
        find(&dirs, &[])
    };
    match found {
        Some(Found::Dev(dir)) => {
            // A standard directory needs no search path; a directory given does.
            if !use_ldconfig {
                println!("cargo::rustc-link-search=native={}", dir.display());
            }
            Ok(())
        }
        Some(Found::Runtime(lib)) => {
            let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?)
                .join("libpcap-link");
            std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            let link = out.join("libpcap.so");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&lib, &link)
                .map_err(|e| format!("{}: {e}", link.display()))?;
            println!("cargo::rustc-link-search=native={}", out.display());
            println!(
                "cargo::warning=no libpcap.so (libpcap-dev) here: linking against the runtime library {}",
                lib.display()
            );
            Ok(())
        }
        None => Err(MISSING.to_string()),
    }
}

/// What was found: the development link's directory, or a runtime library.
pub enum Found {
    Dev(PathBuf),
    Runtime(PathBuf),
}

/// A `libpcap.so` (or `libpcap.a`) in `dirs`; else a runtime library in `dirs` or among `listed` (from
/// `ldconfig -p`): `libpcap.so.1`, then `libpcap.so.0.8`, then any `libpcap.so.N...`.
pub fn find(dirs: &[PathBuf], listed: &[PathBuf]) -> Option<Found> {
    // `-lpcap` takes libpcap.so, or the static libpcap.a (also in the development package).
    let linkable = |d: &&PathBuf| d.join("libpcap.so").exists() || d.join("libpcap.a").exists();
    if let Some(d) = dirs.iter().find(linkable) {
        return Some(Found::Dev(d.clone()));
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(d) else {
            continue;
        };
        let mut names: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_runtime(p))
            .collect();
        names.sort();
        candidates.extend(names);
    }
    candidates.extend(
        listed
            .iter()
            .filter(|p| is_runtime(p) && p.exists())
            .cloned(),
    );
    let rank = |p: &PathBuf| match p.file_name().and_then(|n| n.to_str()) {
        Some("libpcap.so.1") => 0,
        Some("libpcap.so.0.8") => 1,
        _ => 2,
    };
    candidates.into_iter().min_by_key(rank).map(Found::Runtime)
}

/// `libpcap.so.<version>`.
fn is_runtime(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("libpcap.so."))
        .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn split(dirs: &str) -> Vec<PathBuf> {
    dirs.split(':')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect()
}

fn pkg_config_has_libpcap() -> bool {
    std::process::Command::new("pkg-config")
        .args(["--exists", "libpcap"])
        .status()
        .is_ok_and(|s| s.success())
}

/// Where the linker looks (`LIBRARY_PATH`) and where Linux distributions put libraries,
/// for the target's architecture.
fn default_dirs() -> Vec<PathBuf> {
    println!("cargo::rerun-if-env-changed=LIBRARY_PATH");
    let mut dirs = split(&std::env::var("LIBRARY_PATH").unwrap_or_default());
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_else(|_| "gnu".into());
    let triple = match arch.as_str() {
        "arm" => format!("arm-linux-{env}eabihf"),
        a => format!("{a}-linux-{env}"),
    };
    let v = [
        format!("/usr/lib/{triple}"),
        format!("/lib/{triple}"),
        "/usr/lib64".into(),
        "/lib64".into(),
        "/usr/lib".into(),
        "/lib".into(),
        "/usr/local/lib".into(),
    ];
    dirs.extend(v.into_iter().map(PathBuf::from));
    dirs
}

/// The libpcap libraries `ldconfig -p` lists for the target's word size and architecture.
fn ldconfig_paths() -> Vec<PathBuf> {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let tag = match arch.as_str() {
        "x86_64" => Some("x86-64"),
        "aarch64" => Some("AArch64"),
        _ => None,
    };
    let out = ["/sbin/ldconfig", "ldconfig"]
        .iter()
        .find_map(|c| std::process::Command::new(c).arg("-p").output().ok());
    let Some(out) = out else { return Vec::new() };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.trim_start().starts_with("libpcap.so"))
        .filter(|l| tag.is_none_or(|t| l.contains(t)))
        .filter_map(|l| l.split(" => ").nth(1))
        .map(|p| PathBuf::from(p.trim()))
        .collect()
}
