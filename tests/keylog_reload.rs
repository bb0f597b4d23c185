//! Live key reload: a browser or curl appends a connection's secrets to SSLKEYLOGFILE while
//! tcpscope already captures. A connection whose ClientHello random is not in the key log
//! yet keeps its encrypted records (bounded) and asks the key log again; the file's
//! appended lines are read (`capture::keytail`), and the connection decrypts as if the
//! keys had been there from the start.

use std::sync::Arc;
use tcpscope::capture::RawPacket;
use tcpscope::capture::keytail::KeyTail;
use tcpscope::pipeline::{Analyzer, Config, Connection};
use tcpscope::tls::{KeyLog, KeySource};
use tcpscope::ts::Ts;

fn cap(name: &str) -> String {
    format!("{}/captures/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The frames of a classic little-endian microsecond pcap: (linktype, ts ns, bytes).
fn frames(path: &str) -> (u32, Vec<(i64, Vec<u8>)>) {
    let b = std::fs::read(path).unwrap();
    let u32at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    assert_eq!(u32at(0), 0xa1b2_c3d4, "a little-endian microsecond pcap");
    let link = u32at(20);
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= b.len() {
        let ts = i64::from(u32at(at)) * 1_000_000_000 + i64::from(u32at(at + 4)) * 1000;
        let n = u32at(at + 8) as usize;
        out.push((ts, b[at + 16..at + 16 + n].to_vec()));
        at += 16 + n;
    }
    (link, out)
}

/// Run the capture through a live analysis with `keys`; `between(i)` runs after frame i.
fn run(name: &str, keys: KeyLog, mut between: impl FnMut(usize)) -> Connection {
    let (link, fr) = frames(&cap(&format!("{name}.pcap")));
    let cfg = Config {
        keylog: Some(Arc::new(keys)),
        ..Config::default()
    }
    .for_live();
    let mut an = Analyzer::new("live", cfg);
    for (i, (ts, data)) in fr.iter().enumerate() {
        an.on_packet(&RawPacket {
            index: i as u64 + 1,
            ts: Ts(*ts),
            linktype: link,
            orig_len: data.len() as u32,
            data,
        });
        between(i + 1);
    }
    let (_, mut conns) = an.finish();
    assert_eq!(conns.len(), 1);
    conns.remove(0)
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "tcpscope-reload-{}-{name}.keys",
        std::process::id()
    ))
}

/// Each exchange: its URI, status and response body hash.
type Exchanges = Vec<(String, Option<u16>, Option<String>)>;

fn summary(c: &Connection) -> (bool, Exchanges) {
    let t = c.tls_info().unwrap();
    let x = c
        .http
        .iter()
        .map(|e| {
            (
                e.request
                    .as_ref()
                    .map(|r| r.uri.clone())
                    .unwrap_or_default(),
                e.response.as_ref().map(|r| r.status),
                e.response.as_ref().and_then(|r| r.meta.body_sha256.clone()),
            )
        })
        .collect();
    (t.decrypted, x)
}

/// `name`'s keys written to the followed file after frame `after` (then a pause): the
/// connection must come out as with the keys known from the start.
fn late(name: &str, after: usize, pause_ms: u64) {
    let keys_text = std::fs::read(cap(&format!("{name}.keys"))).unwrap();
    let mut upfront = KeyLog::new();
    upfront.add_text(&keys_text, KeySource::Keylog);
    let want = summary(&run(name, upfront, |_| {}));
    assert!(want.0 && !want.1.is_empty(), "{name}: {want:?}");

    let path = temp(&format!("{name}-{pause_ms}"));
    std::fs::write(&path, b"").unwrap();
    let keys = KeyLog::growing(KeyLog::new(), Box::new(KeyTail::new(path.clone(), 0)));
    let c = run(name, keys, |i| {
        if i == after {
            std::fs::write(&path, &keys_text).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(pause_ms));
        }
    });
    let _ = std::fs::remove_file(&path);
    assert_eq!(summary(&c), want, "{name}, pause {pause_ms} ms");
    {
        let t = c.tls_info().unwrap();
        assert_eq!(t.decrypt_failures, 0);
        assert!(
            t.notes.iter().all(|n| !n.contains("not decrypted")),
            "{:?}",
            t.notes
        );
    }
}

#[test]
fn tls13_keys_written_after_the_server_hello_decrypt_the_next_records() {
    // As curl does: the secrets are written once the ServerHello arrived (frame 6); the
    // next records come 40 ms later, past the feed's rate limit: a 600 kB download.
    late("tls13-keepalive", 6, 40);
}

#[test]
fn tls13_keys_that_come_quickly_decrypt_at_the_connection_end() {
    // Everything within the rate limit: the records wait for the connection's end, which
    // always reads the file.
    late("tls13-aes128", 6, 0);
}

#[test]
fn tls12_keys_written_after_the_change_cipher_spec_decrypt() {
    late("tls12-aes128gcm", 8, 0);
}

#[test]
fn keys_that_never_come_leave_the_connection_encrypted() {
    let path = temp("never");
    std::fs::write(&path, b"# nothing yet\n").unwrap();
    let keys = KeyLog::growing(KeyLog::new(), Box::new(KeyTail::new(path.clone(), 0)));
    let c = run("tls13-aes128", keys, |_| {});
    let _ = std::fs::remove_file(&path);
    let t = c.tls_info().unwrap();
    assert!(!t.decrypted);
    assert!(c.http.is_empty());
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("no key log entry matches")),
        "{:?}",
        t.notes
    );
    // The ciphertext is still described: the server's encrypted handshake by its place.
    assert!(
        t.handshake
            .iter()
            .any(|h| h.message == "EncryptedHandshake"),
        "{:?}",
        t.handshake
    );
}
