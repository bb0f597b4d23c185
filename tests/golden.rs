//! Output recorded once, kept byte for byte: the JSON (with packets), NDJSON and text
//! reports of every bundled capture and every shared public capture, as SHA-256 digests in
//! tests/golden/outputs.sha256. A refactoring must leave them all unchanged; a change
//! that means to alter output re-records them (`TCPSCOPE_BLESS=1 cargo test --test
//! golden`) and says why in its commit.
//!
//! On a mismatch the new output is written under target/golden-actual/ so it can be
//! compared with the old binary's.

mod common;

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FORMATS: [(&str, &[&str]); 3] = [
    ("json", &["--format", "json", "--packets"]),
    ("ndjson", &["--format", "ndjson"]),
    ("text", &["--format", "text"]),
];

fn record_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/outputs.sha256")
}

/// `report` run from the capture's own folder on its bare name, so the digest does not
/// depend on where the captures live.
fn output(cap: &Path, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .current_dir(cap.parent().unwrap())
        // The text table fits COLUMNS when it is set: record the full-width table.
        .env_remove("COLUMNS")
        .arg("report")
        .arg(cap.file_name().unwrap())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        cap.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn captures() -> Vec<(String, PathBuf)> {
    let mut v = Vec::new();
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&bundled)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    names.sort();
    for p in names {
        v.push((
            format!("captures/{}", p.file_name().unwrap().to_string_lossy()),
            p,
        ));
    }
    if let Some(dir) = common::public_dir() {
        for p in common::public_captures(&dir) {
            v.push((
                format!("public/{}", p.file_name().unwrap().to_string_lossy()),
                p,
            ));
        }
    }
    v
}

#[test]
fn reports_are_byte_identical_to_the_recorded_ones() {
    let recorded: BTreeMap<String, String> = std::fs::read_to_string(record_file())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(h, k)| (k.to_string(), h.to_string()))
        .collect();
    let bless = std::env::var_os("TCPSCOPE_BLESS").is_some();
    let mut now = BTreeMap::new();
    let mut differ = Vec::new();
    let actual = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/golden-actual");
    for (name, path) in captures() {
        for (fmt, args) in FORMATS {
            let out = output(&path, args);
            let key = format!("{name} {fmt}");
            let hash: String = Sha256::digest(&out)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            match recorded.get(&key) {
                Some(h) if *h == hash => {}
                // Shared captures may be absent where the digests were recorded.
                None if name.starts_with("public/") && !bless => {}
                _ => {
                    std::fs::create_dir_all(&actual).unwrap();
                    let f = actual.join(key.replace(['/', ' '], "_"));
                    std::fs::write(&f, &out).unwrap();
                    differ.push(format!("{key} (new output: {})", f.display()));
                }
            }
            now.insert(key, hash);
        }
    }
    if bless {
        let text: String = now.iter().map(|(k, h)| format!("{h}  {k}\n")).collect();
        std::fs::write(record_file(), text).unwrap();
        return;
    }
    assert!(
        differ.is_empty(),
        "{} outputs differ from the recorded ones:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // The bundled captures are always here; the shared ones only beside the checkout.
    let bundled = now.keys().filter(|k| k.starts_with("captures/")).count();
    assert!(bundled >= 20 * 3, "too few outputs checked: {bundled}");
}

/// The tests above take the shared public captures too when they are there; without
/// them this one is listed as ignored, so that the smaller coverage shows in the output.
#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public: the tests above checked the bundled captures only"
)]
fn the_shared_public_captures_are_included() {
    let dir = common::public_dir().expect("public captures");
    assert!(!common::public_captures(&dir).is_empty());
}
