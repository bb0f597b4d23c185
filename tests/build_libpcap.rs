//! build/libpcap.rs's choice of library, on staged folders (no root needed; the real
//! link on a staged machine is tests/fresh-machine/run.sh).

#[allow(dead_code)]
#[path = "../build/libpcap.rs"]
mod libpcap;

use libpcap::{Found, find};
use std::path::{Path, PathBuf};

fn folder(name: &str, files: &[&str]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcpscope-libpcap-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for f in files {
        std::fs::write(d.join(f), b"").unwrap();
    }
    d
}

fn runtime(found: Option<Found>) -> PathBuf {
    match found {
        Some(Found::Runtime(p)) => p,
        Some(Found::Dev(d)) => panic!("took the development link in {}", d.display()),
        None => panic!("found nothing"),
    }
}

#[test]
fn only_the_runtime_library_is_found_and_linked_to() {
    let d = folder(
        "runtime",
        &["libpcap.so.0.8", "libpcap.so.1.10.3", "libc.so.6"],
    );
    assert_eq!(
        runtime(find(std::slice::from_ref(&d), &[])),
        d.join("libpcap.so.0.8")
    );
    // libpcap.so.1 (Fedora, Arch) before Debian's libpcap.so.0.8.
    let e = folder("both", &["libpcap.so.0.8", "libpcap.so.1"]);
    assert_eq!(
        runtime(find(&[d.clone(), e.clone()], &[])),
        e.join("libpcap.so.1")
    );
}

#[test]
fn the_development_link_wins_wherever_it_is() {
    let d = folder("rt", &["libpcap.so.0.8"]);
    for (name, file) in [("dev", "libpcap.so"), ("static", "libpcap.a")] {
        let dev = folder(name, &[file]);
        match find(&[d.clone(), dev.clone()], &[]) {
            Some(Found::Dev(got)) => assert_eq!(got, dev),
            _ => panic!("{file} was not taken"),
        }
    }
}

#[test]
fn ldconfig_listed_libraries_count_only_when_they_exist() {
    let d = folder("ld", &["libpcap.so.0.8"]);
    let listed = [
        Path::new("/nonexistent/libpcap.so.1").to_path_buf(),
        d.join("libpcap.so.0.8"),
    ];
    assert_eq!(runtime(find(&[], &listed)), d.join("libpcap.so.0.8"));
}

#[test]
fn nothing_found_gives_the_one_line_naming_the_packages() {
    let d = folder(
        "none",
        &[
            "libpcap.so.bak",
            "libpcap.so.",
            "libpcapfoo.so.1",
            "libpcap.so.1x",
        ],
    );
    assert!(find(&[d], &[Path::new("/nonexistent/libpcap.so.0.8").into()]).is_none());
    let m = libpcap::MISSING;
    assert_eq!(m.lines().count(), 1);
    for package in [
        "libpcap-dev",
        "libpcap-devel",
        "Xcode Command Line Tools",
        "brew install libpcap",
    ] {
        assert!(m.contains(package), "{package}");
    }
}
