//! TLS: handshake dissection and decryption with a key log, against captures recorded
//! with real peers (nginx + curl, `captures/record-tls.sh`): decrypted bodies hash to the
//! served files, handshake facts match tshark's reading, bad input stays bounded.

mod common;

use serde_json::Value;
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
        .unwrap()
}

fn run(args: &[&str], env_keys: Option<&str>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tcpscope"));
    c.args(args).env_remove("SSLKEYLOGFILE");
    if let Some(k) = env_keys {
        c.env("SSLKEYLOGFILE", k);
    }
    c.output().unwrap()
}

/// Every TLS connection of the JSON report of `pcap` (in captures/tls), with `keys`.
fn tls_conns(pcap: &str, keys: Option<&str>) -> Vec<Value> {
    let p = cap(pcap);
    let mut args = vec!["report", "--format", "json", &p];
    let k;
    if let Some(keys) = keys {
        k = cap(keys);
        args.extend(["--keylog", &k]);
    }
    let out = run(&args, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = common::json(&out.stdout);
    let conns = v["connections"].as_array().unwrap();
    conns
        .iter()
        .filter(|c| c["app"] == "tls")
        .cloned()
        .collect()
}

/// The JSON report's only TLS connection.
fn report(pcap: &str, keys: Option<&str>) -> Value {
    let mut tls = tls_conns(pcap, keys);
    assert_eq!(tls.len(), 1, "{pcap}");
    tls.remove(0)
}

/// Every TLS connection of NAME.pcap, decrypted with NAME.keys.
fn report_all(name: &str) -> Vec<Value> {
    tls_conns(&format!("{name}.pcap"), Some(&format!("{name}.keys")))
}

#[test]
fn a_hello_retry_request_is_followed_by_a_clear_second_client_hello_and_decrypts() {
    // nginx with P-256 only, curl's key share X25519: the server asks again. The
    // ChangeCipherSpec records around the retry are TLS 1.3's compatibility ones: the
    // second ClientHello and the ServerHello after them are in clear (RFC 8446 §4.1.4,
    // §D.4), and the handshake keys come from the ServerHello, not the retry.
    let c = report("tls13-hrr.pcap", Some("tls13-hrr.keys"));
    let t = &c["tls"];
    assert_eq!(t["version"], "TLS 1.3");
    assert_eq!(t["decrypted"], true, "{t}");
    assert_eq!(t["decrypt_failures"], 0);
    assert_eq!(t["server_hello"]["hello_retry_request"], true);
    assert_eq!(t["key_exchange_group"], "secp256r1");
    let clear: Vec<String> = messages(&c)
        .into_iter()
        .filter(|m| m.2 != "ChangeCipherSpec")
        .map(|m| format!("{} {}", m.1, m.2))
        .take(4)
        .collect();
    assert_eq!(
        clear,
        [
            "client ClientHello",
            "server HelloRetryRequest",
            "client ClientHello",
            "server ServerHello"
        ]
    );
    let http = c["http"].as_array().unwrap();
    assert_eq!(http.len(), 1);
    assert_eq!(http[0]["response"]["status"], 200);
    assert_eq!(http[0]["response"]["body_sha256"], served("small.txt"));
}

#[test]
fn a_resumed_session_decrypts_without_a_certificate() {
    let conns = report_all("tls13-resume");
    assert_eq!(conns.len(), 2);
    let names = |c: &Value| -> Vec<String> { messages(c).into_iter().map(|m| m.2).collect() };
    assert!(names(&conns[0]).iter().any(|m| m == "Certificate"));
    // The second connection resumes the first one's session (a pre-shared key from its
    // NewSessionTicket): no Certificate, and its own secrets in the key log.
    assert!(
        !names(&conns[1]).iter().any(|m| m == "Certificate"),
        "{:?}",
        names(&conns[1])
    );
    let want = [served("small.txt"), served("mid.bin")];
    for (c, sha) in conns.iter().zip(want) {
        assert_eq!(c["tls"]["decrypted"], true);
        assert_eq!(c["tls"]["decrypt_failures"], 0);
        assert_eq!(c["http"][0]["response"]["status"], 200);
        assert_eq!(c["http"][0]["response"]["body_sha256"], sha);
    }
}

fn messages(c: &Value) -> Vec<(u64, String, String)> {
    c["tls"]["handshake"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["frame"].as_u64().unwrap(),
                h["dir"].as_str().unwrap().to_string(),
                h["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_suite_decrypts_to_the_served_file() {
    let cases = [
        ("tls13-aes128", "TLS 1.3", "TLS_AES_128_GCM_SHA256"),
        ("tls13-aes256", "TLS 1.3", "TLS_AES_256_GCM_SHA384"),
        ("tls13-chacha20", "TLS 1.3", "TLS_CHACHA20_POLY1305_SHA256"),
        (
            "tls12-aes128gcm",
            "TLS 1.2",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ),
        (
            "tls12-aes256gcm",
            "TLS 1.2",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        ),
        (
            "tls12-chacha20",
            "TLS 1.2",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        ),
    ];
    for (name, version, suite) in cases {
        let c = report(&format!("{name}.pcap"), Some(&format!("{name}.keys")));
        let t = &c["tls"];
        assert_eq!(t["version"], version, "{name}");
        assert_eq!(t["cipher_suite"], suite, "{name}");
        assert_eq!(t["sni"], "tls.test", "{name}");
        assert_eq!(t["alpn_offered"], serde_json::json!(["http/1.1"]), "{name}");
        assert_eq!(t["alpn"], "http/1.1", "{name}");
        assert_eq!(t["decrypted"], true, "{name}");
        assert_eq!(t["keys_from"], "keylog", "{name}");
        assert_eq!(t["decrypt_failures"], 0, "{name}");
        assert_eq!(t["certificates"][0]["subject"], "CN=tls.test", "{name}");
        assert_eq!(t["key_exchange_group"], "x25519", "{name}");
        let http = c["http"].as_array().unwrap();
        assert_eq!(http.len(), 1, "{name}");
        assert_eq!(http[0]["request"]["uri"], "/small.txt");
        assert_eq!(http[0]["response"]["status"], 200);
        assert_eq!(
            http[0]["response"]["body_sha256"],
            served("small.txt"),
            "{name}"
        );
        // The client's close_notify, decrypted.
        let alerts = t["alerts"].as_array().unwrap();
        assert!(
            alerts.iter().any(|a| a["description"] == "close_notify"),
            "{name}: {alerts:?}"
        );
    }
}

#[test]
fn keep_alive_gzip_and_chunked_bodies_are_as_served() {
    let c = report("tls13-keepalive.pcap", Some("tls13-keepalive.keys"));
    let http = c["http"].as_array().unwrap();
    assert_eq!(http.len(), 2);
    assert_eq!(http[0]["response"]["body_sha256"], served("small.txt"));
    assert_eq!(http[1]["response"]["body_sha256"], served("big.bin"));
    assert_eq!(http[1]["response"]["body_bytes_decoded"], 600_000);
    let c = report("tls13-gzip-chunked.pcap", Some("tls13-gzip-chunked.keys"));
    let r = &c["http"][0]["response"];
    assert_eq!(r["content_encoding"], "gzip");
    assert_eq!(r["chunked"], true);
    assert_eq!(r["body_sha256"], served("page.html"));
}

#[test]
fn lossy_download_decrypts_whole() {
    let c = report("tls12-lossy.pcap", Some("tls12-lossy.keys"));
    assert_eq!(c["tls"]["decrypt_failures"], 0);
    assert_eq!(c["http"][0]["response"]["body_sha256"], served("big.bin"));
}

#[test]
fn without_keys_the_clear_handshake_is_still_reported() {
    let c = report("tls13-nokeys.pcap", None);
    let t = &c["tls"];
    assert_eq!(t["decrypted"], false);
    assert_eq!(t["keys_from"], Value::Null);
    assert_eq!(t["version"], "TLS 1.3");
    assert_eq!(t["cipher_suite"], "TLS_AES_256_GCM_SHA384");
    assert_eq!(t["sni"], "tls.test");
    assert_eq!(t["alpn_offered"], serde_json::json!(["http/1.1"]));
    assert_eq!(t["alpn"], Value::Null);
    assert_eq!(t["certificates"], serde_json::json!([]));
    assert!(c.get("http").is_none());
    let m: Vec<String> = messages(&c).into_iter().map(|m| m.2).collect();
    assert_eq!(m[..2], ["ClientHello", "ServerHello"]);
    // TLS 1.2 shows its certificate in clear.
    let c = report("tls12-chacha20.pcap", None);
    let cert = &c["tls"]["certificates"][0];
    assert_eq!(cert["subject"], "CN=tls.test");
    assert_eq!(cert["issuer"], "CN=tls.test");
    assert!(cert["not_before"].as_str().unwrap().ends_with('Z'));
    assert_eq!(c["tls"]["alpn"], "http/1.1");
}

#[test]
fn alpn_h2_is_handed_to_http2() {
    // More in tests/tls_h2.rs.
    let c = report("tls13-h2.pcap", Some("tls13-h2.keys"));
    assert_eq!(c["app"], "tls");
    assert_eq!(c["tls"]["alpn"], "h2");
    assert_eq!(c["tls"]["decrypted"], true);
    assert_eq!(c["http"][0]["stream_id"], 1);
    assert_eq!(c["http"][0]["response"]["body_sha256"], served("small.txt"));
    assert_eq!(c["http2"]["origin"], "tls");
}

#[test]
fn dsb_and_environment_keys_are_used() {
    let out = run(
        &["report", "--format", "json", &cap("tls13-dsb.pcapng")],
        None,
    );
    let v = common::json(&out.stdout);
    let t = &v["connections"][0]["tls"];
    assert_eq!(t["decrypted"], true);
    assert_eq!(t["keys_from"], "dsb");
    let keys = cap("tls13-aes128.keys");
    let out = run(&["report", &cap("tls13-aes128.pcap")], Some(&keys));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tls→http"), "{text}");
    let out = run(&["report", &cap("tls13-aes128.pcap")], None);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("tls→http"));
}

/// tshark's handshake messages per frame (`tls.handshake.type`, with the key log).
fn tshark_messages(pcap: &str, keys: &str) -> Option<Vec<(u64, Vec<u64>)>> {
    let out = Command::new("tshark")
        .args([
            "-r",
            &cap(pcap),
            "-o",
            &format!("tls.keylog_file:{}", cap(keys)),
        ])
        .args([
            "-Y",
            "tls.handshake.type",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ])
        .args(["-e", "tls.handshake.type"])
        .output()
        .ok()?;
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let (f, t) = l.split_once('\t')?;
                let types = t.split(',').filter_map(|x| x.parse().ok()).collect();
                Some((f.parse().ok()?, types))
            })
            .collect(),
    )
}

#[test]
#[cfg_attr(not(tcpscope_tshark), ignore = "needs tshark")]
fn handshake_messages_agree_with_tshark() {
    let names = |t: u64| match t {
        1 => "ClientHello",
        2 => "ServerHello",
        4 => "NewSessionTicket",
        8 => "EncryptedExtensions",
        11 => "Certificate",
        12 => "ServerKeyExchange",
        14 => "ServerHelloDone",
        15 => "CertificateVerify",
        16 => "ClientKeyExchange",
        20 => "Finished",
        _ => "?",
    };
    for name in [
        "tls13-aes128",
        "tls13-chacha20",
        "tls12-aes128gcm",
        "tls12-chacha20",
        "tls13-hrr",
        "tls13-resume",
    ] {
        let Some(want) = tshark_messages(&format!("{name}.pcap"), &format!("{name}.keys")) else {
            eprintln!("tshark not installed: skipped");
            return;
        };
        let mut got: Vec<(u64, String)> = report_all(name)
            .iter()
            .flat_map(messages)
            .filter(|m| m.2 != "ChangeCipherSpec")
            // tshark names a HelloRetryRequest by its wire type: a ServerHello (2).
            .map(|m| (m.0, m.2.replace("HelloRetryRequest", "ServerHello")))
            .collect();
        got.sort_by_key(|m| m.0);
        let want: Vec<(u64, String)> = want
            .into_iter()
            .flat_map(|(f, ts)| ts.into_iter().map(move |t| (f, names(t).to_string())))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn wrong_keys_are_anomalies_and_secrets_never_printed() {
    let text = std::fs::read_to_string(dir().join("tls13-aes128.keys")).unwrap();
    // Flip one hex digit of every secret: the randoms match, the keys are wrong.
    let wrong: String = text
        .lines()
        .map(|l| {
            let mut s = l.to_string();
            let last = s.pop().unwrap();
            s.push(if last == '0' { '1' } else { '0' });
            s + "\n"
        })
        .collect::<String>()
        + "garbage line SECRETGARBAGE\n";
    let tmp = std::env::temp_dir().join(format!("tcpscope-wrong-{}.keys", std::process::id()));
    std::fs::write(&tmp, &wrong).unwrap();
    let out = run(
        &[
            "report",
            "--format",
            "json",
            &cap("tls13-aes128.pcap"),
            "--keylog",
            tmp.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success());
    let v = common::json(&out.stdout);
    let t = &v["connections"][0]["tls"];
    assert_eq!(t["decrypted"], false);
    assert_eq!(t["decrypt_failures"], 2, "one per direction: {t}");
    assert!(t["anomalies"][0]["frame"].as_u64().unwrap() > 0);
    assert!(v["connections"][0].get("http").is_none());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let garbage_line = wrong.lines().count();
    assert!(all.contains(&format!("(line {garbage_line})")), "{all}");
    for l in wrong.lines() {
        if let Some(secret) = l.split_whitespace().nth(2) {
            assert!(!all.contains(secret), "a secret was printed");
        }
    }
    std::fs::remove_file(&tmp).ok();
}

#[test]
fn a_long_key_log_is_read_quickly() {
    let real = std::fs::read_to_string(dir().join("tls13-aes128.keys")).unwrap();
    let mut text = String::with_capacity(40 << 20);
    // 200,000 lines here (a debug build); docs/json.md gives the release figure for 10^6.
    for i in 0..200_000u64 {
        text.push_str(&format!("CLIENT_RANDOM {:064x} {}\n", i, "ab".repeat(48)));
    }
    text.push_str(&real);
    let tmp = std::env::temp_dir().join(format!("tcpscope-big-{}.keys", std::process::id()));
    std::fs::write(&tmp, &text).unwrap();
    let t0 = std::time::Instant::now();
    let c = {
        let out = run(
            &[
                "report",
                "--format",
                "json",
                &cap("tls13-aes128.pcap"),
                "--keylog",
                tmp.to_str().unwrap(),
            ],
            None,
        );
        common::json(&out.stdout)
    };
    let secs = t0.elapsed().as_secs_f64();
    std::fs::remove_file(&tmp).ok();
    assert_eq!(c["connections"][0]["tls"]["decrypted"], true);
    assert!(secs < 30.0, "{secs} s");
}

mod bad_input {
    use proptest::prelude::*;
    use tcpscope::flow::Dir;
    use tcpscope::tls::{TlsInfo, TlsSession};

    fn record(t: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![t, 3, 1];
        v.extend_from_slice(&(body.len() as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    /// A ClientHello handshake message with `n` empty extensions of type 0xfe00+.
    fn client_hello(n: usize) -> Vec<u8> {
        let mut ext = Vec::new();
        for i in 0..n {
            ext.extend_from_slice(&(0xfe00u16.wrapping_add(i as u16 % 200)).to_be_bytes());
            ext.extend_from_slice(&[0, 0]);
        }
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7; 32]);
        b.push(0); // session id
        b.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
        b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        b.extend_from_slice(&ext);
        let mut m = vec![1, 0, (b.len() >> 8) as u8, b.len() as u8];
        m[1] = (b.len() >> 16) as u8;
        m.extend_from_slice(&b);
        m
    }

    fn run(chunks: &[(Dir, &[u8])]) -> TlsInfo {
        let mut s = TlsSession::new(None);
        let mut plain = 0usize;
        for (i, (d, c)) in chunks.iter().enumerate() {
            s.push(*d, c, i as u64 + 1, &mut |_, _| plain += 1);
        }
        let info = s.finish(&mut |_, _| {});
        assert_eq!(plain, 0, "nothing decrypted without keys");
        info
    }

    #[test]
    fn ten_thousand_extensions_and_records_split_in_handshake_fragments() {
        let msg = client_hello(10_000);
        assert!(msg.len() > 1 << 14);
        // A handshake message over several records (each at most 2^14 bytes).
        let mut bytes = Vec::new();
        for part in msg.chunks(1 << 14) {
            bytes.extend(record(22, part));
        }
        let info = run(&[(Dir::Client, &bytes)]);
        let ch = info.client_hello.unwrap();
        assert_eq!(ch.extensions, 10_000);
        assert_eq!(ch.cipher_suites, ["TLS_AES_128_GCM_SHA256"]);
        assert_eq!(info.records.client, 3);
        assert_eq!(info.handshake.len(), 1);
    }

    #[test]
    fn oversized_record_length_is_an_anomaly_then_framing_resyncs() {
        let mut bytes = vec![23, 3, 3];
        bytes.extend_from_slice(&(((1u32 << 14) + 2048 + 1) as u16).to_be_bytes());
        bytes.extend_from_slice(&[0; 100]);
        bytes.extend(record(21, &[2, 40]));
        let info = run(&[
            (Dir::Client, &record(22, &client_hello(1))),
            (Dir::Server, &bytes),
        ]);
        assert_eq!(info.malformed_handshake, 1);
        assert_eq!(info.anomalies[0].frame, 2);
        assert!(
            info.anomalies[0].what.contains("18433"),
            "{:?}",
            info.anomalies
        );
        assert_eq!(info.alerts.len(), 1);
        assert_eq!(info.alerts[0].description, "handshake_failure");
        assert_eq!(info.alerts[0].level, "fatal");
    }

    #[test]
    fn truncated_and_malformed_messages() {
        let ch = client_hello(3);
        // Cut inside the message: no entry, no panic.
        let info = run(&[(Dir::Client, &record(22, &ch[..ch.len() - 5])[..])]);
        assert!(info.handshake.is_empty());
        // A whole message whose body is garbage.
        let bad = [1, 0, 0, 4, 0xff, 0xff, 0xff, 0xff];
        let info = run(&[(Dir::Client, &record(22, &bad))]);
        assert_eq!(info.malformed_handshake, 1);
        // A handshake length of 2^24-1 is skipped, not buffered.
        let huge = [1, 0xff, 0xff, 0xff, 0, 0];
        let info = run(&[(Dir::Client, &record(22, &huge))]);
        assert_eq!(info.malformed_handshake, 1);
        assert!(info.anomalies[0].what.contains("16777215"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn any_bytes_never_panic(chunks in proptest::collection::vec(
            (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..3000)), 0..12)) {
            let mut s = TlsSession::new(None);
            let mut first = record(22, &client_hello(2));
            first.truncate(first.len());
            s.push(Dir::Client, &first, 1, &mut |_, _| {});
            for (i, (c, b)) in chunks.iter().enumerate() {
                let d = if *c { Dir::Client } else { Dir::Server };
                if i % 5 == 4 {
                    s.gap(d, b.len() as u64);
                } else {
                    s.push(d, b, i as u64 + 2, &mut |_, _| {});
                }
            }
            let info = s.finish(&mut |_, _| {});
            prop_assert!(info.handshake.len() <= 256);
        }
    }
}

#[test]
#[cfg_attr(not(tcpscope_editcap), ignore = "needs editcap (Wireshark)")]
fn a_record_lost_in_a_capture_gap_is_skipped_and_counted() {
    // Frame 100 of the keep-alive capture carries 1,448 bytes of big.bin's records.
    let out = std::env::temp_dir().join(format!("tcpscope-gap-{}.pcap", std::process::id()));
    let Ok(st) = Command::new("editcap")
        .args([&cap("tls13-keepalive.pcap"), out.to_str().unwrap(), "100"])
        .status()
    else {
        eprintln!("editcap not installed: skipped");
        return;
    };
    assert!(st.success());
    let keys = cap("tls13-keepalive.keys");
    let o = run(
        &[
            "report",
            "--format",
            "json",
            out.to_str().unwrap(),
            "--keylog",
            &keys,
        ],
        None,
    );
    std::fs::remove_file(&out).ok();
    let c = &common::json(&o.stdout)["connections"][0];
    assert_eq!(c["gaps"][0]["len"], 1448);
    assert_eq!(c["tls"]["decrypt_failures"], 0);
    let small = &c["http"][0]["response"];
    assert_eq!(small["body_sha256"], served("small.txt"));
    let big = &c["http"][1]["response"];
    // One whole 16 kB record was lost: found again by its sequence number after the gap.
    assert_eq!(big["body_bytes_missing"], 16384);
    assert_eq!(big["body_bytes_wire"], 600_000 - 16384);
    assert_eq!(big["body_sha256"], Value::Null);
}

#[test]
fn keys_of_another_connection_decrypt_nothing() {
    let c = report("tls13-aes128.pcap", Some("tls13-aes256.keys"));
    let t = &c["tls"];
    assert_eq!(t["decrypted"], false);
    assert_eq!(t["decrypt_failures"], 0);
    assert_eq!(t["keys_from"], Value::Null);
    assert!(t["notes"][0].as_str().unwrap().contains("no key log entry"));
}
