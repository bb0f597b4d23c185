//! Output is deterministic: every bundled capture and every shared public capture gives
//! byte-identical JSON and text on every run and with any `--threads`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(".pcap"))
        })
        .collect();
    v.sort();
    v
}

fn run(file: &Path, format: &str, threads: u32) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .arg("report")
        .arg(file)
        .args(["--format", format, "--threads", &threads.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} --threads {threads}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The first line where two outputs differ, for the failure message.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  {x}\n  {y}", i + 1);
        }
    }
    format!("lengths {} and {}", a.len(), b.len())
}

/// Every capture, both formats, threads 1, 2, 4, three runs each; the two cores of a
/// small machine share the work.
fn check_all(files: &[PathBuf]) {
    assert!(!files.is_empty());
    let jobs: Vec<(&PathBuf, &str)> = files
        .iter()
        .flat_map(|f| [(f, "json"), (f, "text")])
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(file, format)) = jobs.get(i) else {
                        break;
                    };
                    let first = run(file, format, 1);
                    for threads in [1, 2, 4] {
                        for n in 0..3 {
                            if threads == 1 && n == 0 {
                                continue;
                            }
                            let again = run(file, format, threads);
                            if again != first {
                                failures.lock().unwrap().push(format!(
                                    "{} {format} --threads {threads} (run {}) differs from --threads 1: {}",
                                    file.display(),
                                    n + 1,
                                    first_difference(&first, &again)
                                ));
                            }
                        }
                    }
                }
            });
        }
    });
    let f = failures.into_inner().unwrap();
    assert!(f.is_empty(), "{}", f.join("\n"));
}

#[test]
fn bundled_captures_give_the_same_bytes_every_run_and_thread_count() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures");
    check_all(&captures_in(&dir));
}

#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public (or TCPSCOPE_PUBLIC_CAPTURES)"
)]
fn public_captures_give_the_same_bytes_every_run_and_thread_count() {
    let Some(dir) = common::public_dir() else {
        return;
    };
    check_all(&captures_in(&dir));
}
