//! HTTP/2 inside TLS (ALPN h2): the decrypted plaintext goes to the HTTP/2 reader as a
//! cleartext h2 stream does. Ground truth recorded with real peers
//! (`captures/record-tls.sh`: nginx `ssl http2`, `curl --http2 --parallel`): streams,
//! statuses and body SHA-256 equal to the served files, frame counts equal to tshark's
//! `-o tls.keylog_file:KEYS -Y http2`; without keys, only the clear handshake.

mod common;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/tls")
}

fn cap(name: &str) -> String {
    dir().join(name).display().to_string()
}

/// SHA-256 of a served file, from `served-sha256.txt`.
fn served(file: &str) -> String {
    let text = std::fs::read_to_string(dir().join("served-sha256.txt")).unwrap();
    text.lines()
        .find_map(|l| {
            let (h, n) = l.split_once("  ")?;
            (n == file).then(|| h.to_string())
        })
        .unwrap_or_else(|| panic!("{file} not in served-sha256.txt"))
}

fn run(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .env_remove("SSLKEYLOGFILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The JSON report's only connection.
fn report(name: &str, keys: bool) -> Value {
    let p = cap(&format!("{name}.pcap"));
    let k = cap(&format!("{name}.keys"));
    let mut args = vec!["report", "--format", "json", &p];
    if keys {
        args.extend(["--keylog", &k]);
    }
    let v = common::json(&run(&args).stdout);
    let conns = v["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1, "{name}: one connection");
    conns[0].clone()
}

/// Our frame counts per type, both directions added.
fn frame_total(c: &Value) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for side in ["client", "server"] {
        for (k, v) in c["http2"]["frames"][side].as_object().unwrap() {
            *m.entry(k.clone()).or_insert(0) += v.as_u64().unwrap();
        }
    }
    m
}

/// tshark's frame count per type over the decrypted capture, or None without tshark.
fn tshark_frames(name: &str) -> Option<BTreeMap<String, u64>> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(cap(&format!("{name}.pcap")))
        .arg("-o")
        .arg(format!("tls.keylog_file:{}", cap(&format!("{name}.keys"))))
        .args(["-Y", "http2", "-T", "fields", "-e", "http2.type"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    const NAMES: [&str; 10] = [
        "DATA",
        "HEADERS",
        "PRIORITY",
        "RST_STREAM",
        "SETTINGS",
        "PUSH_PROMISE",
        "PING",
        "GOAWAY",
        "WINDOW_UPDATE",
        "CONTINUATION",
    ];
    let mut m = BTreeMap::new();
    for t in String::from_utf8_lossy(&out.stdout)
        .split([',', '\n'])
        .filter(|t| !t.is_empty())
    {
        let i: usize = t.trim().parse().ok()?;
        let name = NAMES.get(i).map_or("UNKNOWN", |s| s);
        *m.entry(name.to_string()).or_insert(0) += 1;
    }
    Some(m)
}

fn check_frames_against_tshark(name: &str, c: &Value) {
    let ours = frame_total(c);
    match tshark_frames(name) {
        Some(theirs) => {
            eprintln!("{name}: tshark -Y http2 says {theirs:?}");
            assert_eq!(ours, theirs, "{name}: frame counts vs tshark -Y http2");
        }
        None => eprintln!("tshark not available: frame counts of {name} not compared"),
    }
}

/// (stream id, path, status, response body SHA-256) per exchange.
fn streams(c: &Value) -> Vec<(u64, String, u64, String)> {
    c["http"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["request"]["version"], "HTTP/2", "{e}");
            assert_eq!(e["response"]["version"], "HTTP/2", "{e}");
            (
                e["stream_id"].as_u64().unwrap(),
                e["request"]["uri"].as_str().unwrap_or("").to_string(),
                e["response"]["status"].as_u64().unwrap(),
                e["response"]["body_sha256"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn parallel_streams_in_tls_are_exchanges_with_the_served_bodies() {
    let c = report("tls13-h2-parallel", true);
    assert_eq!(c["app"], "tls", "app stays tls");
    assert_eq!(c["tls"]["alpn"], "h2");
    assert_eq!(c["tls"]["decrypted"], true);
    assert_eq!(c["tls"]["decrypt_failures"], 0);
    let s = streams(&c);
    let ids: Vec<u64> = s.iter().map(|x| x.0).collect();
    assert_eq!(ids, [1, 3, 5, 7], "{s:?}");
    assert_eq!(
        s.iter().map(|x| (x.1.as_str(), x.2)).collect::<Vec<_>>(),
        [
            ("/small.txt", 200),
            ("/page.html", 200),
            ("/mid.bin", 200),
            ("/missing.txt", 404)
        ]
    );
    assert_eq!(s[0].3, served("small.txt"));
    assert_eq!(s[1].3, served("page.html"));
    assert_eq!(s[2].3, served("mid.bin"));
    let page = &c["http"][1]["response"];
    assert_eq!(page["content_encoding"], "gzip");
    assert!(
        page["body_bytes_wire"].as_u64().unwrap() < page["body_bytes_decoded"].as_u64().unwrap(),
        "{page}"
    );
    assert_eq!(c["http"][2]["response"]["body_bytes_decoded"], 100_000);
    // The four requests overlapped: each was sent before the first response ended.
    let first_done = c["http"][0]["response"]["end_frame"].as_u64().unwrap();
    for e in c["http"].as_array().unwrap() {
        assert_eq!(e["end_state"], "complete", "{e}");
        assert!(e["request"]["frame"].as_u64().unwrap() < first_done);
    }
    // The 404 page came gzip-encoded too, decoded.
    assert_eq!(c["http"][3]["response"]["content_encoding"], "gzip");
    let h2 = &c["http2"];
    assert_eq!(h2["origin"], "tls");
    assert_eq!(
        h2["settings"]["server"]["SETTINGS_MAX_CONCURRENT_STREAMS"],
        128
    );
    assert_eq!(h2["hpack_failures"], 0);
    check_frames_against_tshark("tls13-h2-parallel", &c);
}

#[test]
fn tls12_and_single_stream_h2_match_tshark() {
    for name in ["tls13-h2", "tls12-h2"] {
        let c = report(name, true);
        assert_eq!(c["app"], "tls");
        assert_eq!(c["tls"]["alpn"], "h2", "{name}");
        let s = streams(&c);
        assert_eq!(
            s,
            [(1, "/small.txt".into(), 200, served("small.txt"))],
            "{name}"
        );
        assert!(c["tls"].get("notes").is_none(), "{name}: {}", c["tls"]);
        check_frames_against_tshark(name, &c);
    }
    let c = report("tls12-h2", true);
    assert_eq!(c["tls"]["version"], "TLS 1.2");
    assert_eq!(
        c["tls"]["cipher_suite"],
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
    );
}

#[test]
fn without_keys_alpn_h2_is_seen_and_nothing_else() {
    // TLS 1.2 shows the server's ALPN choice in clear; TLS 1.3 hides it.
    let c = report("tls12-h2", false);
    assert_eq!(c["app"], "tls");
    assert_eq!(c["tls"]["decrypted"], false);
    assert_eq!(c["tls"]["alpn"], "h2");
    assert!(c.get("http").is_none());
    assert!(c.get("http2").is_none());
    let c = report("tls13-h2-parallel", false);
    assert_eq!(
        c["tls"]["alpn_offered"],
        serde_json::json!(["h2", "http/1.1"])
    );
    assert_eq!(c["tls"]["alpn"], Value::Null, "encrypted in TLS 1.3");
    assert!(c.get("http").is_none());
    assert!(c.get("http2").is_none());
}

#[test]
fn text_report_says_tls_to_h2() {
    let p = cap("tls13-h2-parallel.pcap");
    let k = cap("tls13-h2-parallel.keys");
    let text = String::from_utf8(run(&["report", &p, "--keylog", &k]).stdout).unwrap();
    assert!(text.contains(" tls→h2 "), "{text}");
    let text = String::from_utf8(run(&["report", &p]).stdout).unwrap();
    assert!(!text.contains("tls→"), "{text}");
    let p = cap("tls13-aes128.pcap");
    let k = cap("tls13-aes128.keys");
    let text = String::from_utf8(run(&["report", &p, "--keylog", &k]).stdout).unwrap();
    assert!(
        text.contains(" tls→http ") && !text.contains("tls→h2"),
        "{text}"
    );
}

#[test]
fn export_http_writes_the_decrypted_h2_bodies() {
    let out_dir = std::env::temp_dir().join(format!("tcpscope-tls-h2-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let p = cap("tls13-h2-parallel.pcap");
    let k = cap("tls13-h2-parallel.keys");
    let o = out_dir.display().to_string();
    run(&["export-http", &p, "--keylog", &k, "-o", &o]);
    for file in ["small.txt", "page.html", "mid.bin"] {
        use sha2::Digest;
        let bytes = std::fs::read(out_dir.join(file)).unwrap();
        let got: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got, served(file), "{file}");
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}
