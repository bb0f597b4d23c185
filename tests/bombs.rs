//! Decompression bombs through `export-http` (issue 14, item 2): decoded bytes held at
//! once are bounded by one budget, whatever the number of bodies in progress; every body
//! is still written up to its cap, and the index names the bomb.

mod common;

use common::pcap::{Pcap, Tcp};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const MIB: usize = 1 << 20;

/// gzip of `n` zero bytes.
fn gzip_zeros(n: usize) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    let zeros = vec![0u8; MIB];
    for _ in 0..n / MIB {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHA-256 of `n` zero bytes.
fn sha_zeros(n: usize) -> String {
    let mut h = Sha256::new();
    let zeros = vec![0u8; MIB];
    for _ in 0..n / MIB {
        h.update(&zeros);
    }
    hex(&h.finalize())
}

/// One response per connection, `bodies[i]` with its head, sent in 1,448-byte segments
/// interleaved over every connection (so every body is in progress at once).
fn capture(bodies: &[(String, Vec<u8>)]) -> Pcap {
    let mut pcap = Pcap::new();
    let mut conns: Vec<Tcp> = (0..bodies.len())
        .map(|i| Tcp::new(([10, 0, 0, 1], 20_000 + i as u16), ([10, 0, 0, 2], 80)))
        .collect();
    let mut t = 1_000_000_000i64;
    let mut step = || {
        t += 10_000;
        t
    };
    let mut rest: Vec<&[u8]> = Vec::new();
    for (c, (get, resp)) in conns.iter_mut().zip(bodies) {
        c.handshake(&mut pcap, step(), 20_000);
        c.seg(&mut pcap, step(), true, "PA", get.as_bytes());
        rest.push(resp);
    }
    while rest.iter().any(|r| !r.is_empty()) {
        for (c, r) in conns.iter_mut().zip(rest.iter_mut()) {
            if r.is_empty() {
                continue;
            }
            let (seg, more) = r.split_at(r.len().min(1448));
            c.seg(&mut pcap, step(), false, "PA", seg);
            c.seg(&mut pcap, step(), true, "A", &[]);
            *r = more;
        }
    }
    for c in &mut conns {
        c.close(&mut pcap, step(), 1_000);
    }
    pcap
}

fn response(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", body.len());
    if let Some(e) = encoding {
        head += &format!("Content-Encoding: {e}\r\n");
    }
    head += "Content-Type: application/octet-stream\r\n\r\n";
    let mut v = head.into_bytes();
    v.extend_from_slice(body);
    v
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: bombs.test\r\n\r\n")
}

/// `export-http FILE -o DIR extra...` under GNU time: its stdout and peak RSS in KiB.
fn export(file: &Path, dir: &Path, extra: &[&str]) -> (String, Option<u64>) {
    let bin = env!("CARGO_BIN_EXE_tcpscope");
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "maxrss_kb %M", bin]);
        c
    } else {
        Command::new(bin)
    };
    let out = cmd
        .arg("export-http")
        .arg(file)
        .arg("-o")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let kb = stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb "))
        .and_then(|s| s.trim().parse().ok());
    (String::from_utf8(out.stdout).unwrap(), kb)
}

/// The index's rows after its header, split into columns.
fn index(dir: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("conn\texchange\tfile\tcontent_type\tsize\tsha256\tnote")
    );
    lines
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcpscope-bombs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// No part file left behind in `dir`.
fn no_parts(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with(".tcpscope-part"), "left behind: {name}");
    }
}

/// The input: 120 interleaved connections, each a 71 KB gzip body decoding to
/// 70 MiB. At the defaults (`--max-body` 64 MiB, decompression cap 64 MiB) every body
/// is written up to the cap, flagged, and the peak RSS stays under 300 MB (it was 7.6 GB).
#[test]
fn interleaved_bombs_are_written_up_to_their_cap_within_one_memory_budget() {
    let gz = gzip_zeros(70 * MIB);
    assert!((60_000..80_000).contains(&gz.len()), "{} bytes", gz.len());
    let bodies: Vec<(String, Vec<u8>)> = (0..120)
        .map(|i| (get(&format!("/bomb-{i}.bin")), response(Some("gzip"), &gz)))
        .collect();
    let file = capture(&bodies).write("bombs.pcap");
    let size = std::fs::metadata(&file).unwrap().len();
    assert!((8 << 20..11 << 20).contains(&size), "{size} bytes");
    let dir = out_dir("defaults");
    let (stdout, kb) = export(&file, &dir, &[]);
    assert!(
        stdout.starts_with("wrote 120 of 120 response bodies"),
        "{stdout}"
    );
    let cap = 64 * MIB;
    let want_sha = sha_zeros(cap);
    let rows = index(&dir);
    assert_eq!(rows.len(), 120);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[2], format!("bomb-{i}.bin"), "{r:?}");
        assert_eq!(r[4], cap.to_string(), "{r:?}");
        assert_eq!(r[5], want_sha, "{r:?}");
        assert_eq!(r[6], format!("decompression bomb: stopped at {cap} bytes"));
        let f = dir.join(&r[2]);
        assert_eq!(std::fs::metadata(&f).unwrap().len(), cap as u64, "{r:?}");
        if i % 40 == 0 {
            let bytes = std::fs::read(&f).unwrap();
            assert_eq!(hex(&Sha256::digest(&bytes)), want_sha, "{r:?}");
        }
    }
    no_parts(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
    let kb = kb.expect("GNU time at /usr/bin/time");
    eprintln!("export-http on 120 interleaved bombs: peak RSS {kb} KiB");
    assert!(kb <= 300_000, "peak RSS {kb} KiB");
}

/// Beside a bomb, honest bodies come out whole and equal to what was served; a body
/// over `--max-body` is listed with its size and hash but not written; a bomb is written
/// up to `--max-body` when that is smaller than the decompression cap.
#[test]
fn bodies_beside_a_bomb_are_written_whole_and_the_long_one_is_listed() {
    let text: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(&text).unwrap();
    let text_gz = enc.finish().unwrap();
    let plain = b"plain body, not encoded\n".repeat(100);
    let long = vec![b'x'; 3 * MIB];
    let bodies = vec![
        (get("/a.bin"), response(Some("gzip"), &text_gz)),
        (
            get("/bomb.bin"),
            response(Some("gzip"), &gzip_zeros(70 * MIB)),
        ),
        (get("/b.txt"), response(None, &plain)),
        (get("/long.bin"), response(None, &long)),
    ];
    let file = capture(&bodies).write("mixed.pcap");
    let dir = out_dir("mixed");
    let (stdout, _) = export(&file, &dir, &["--max-body", "2097152"]);
    assert!(
        stdout.starts_with("wrote 3 of 4 response bodies"),
        "{stdout}"
    );
    let rows = index(&dir);
    let sha = |b: &[u8]| hex(&Sha256::digest(b));
    assert_eq!(rows.len(), 4);
    assert_eq!(
        &rows[0][2..],
        [
            "a.bin",
            "application/octet-stream",
            &text.len().to_string(),
            &sha(&text),
            ""
        ]
    );
    assert_eq!(std::fs::read(dir.join("a.bin")).unwrap(), text);
    assert_eq!(rows[1][2], "bomb.bin");
    assert_eq!(
        rows[1][6],
        format!(
            "decompression bomb: stopped at {} bytes (first 2097152 written: --max-body)",
            64 * MIB
        )
    );
    assert_eq!(rows[1][5], sha_zeros(2 * MIB));
    assert_eq!(
        std::fs::metadata(dir.join("bomb.bin")).unwrap().len(),
        2 * MIB as u64
    );
    assert_eq!(rows[2][2], "b.txt");
    assert_eq!(std::fs::read(dir.join("b.txt")).unwrap(), plain);
    assert_eq!(
        &rows[3][2..],
        [
            "-",
            "application/octet-stream",
            &long.len().to_string(),
            &sha(&long),
            "body larger than --max-body: hashed, not kept"
        ]
    );
    assert!(!dir.join("long.bin").exists());
    no_parts(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}
