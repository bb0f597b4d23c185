//! `tcpscope diagram` labels arrows as the TUI's ladder does, from the same source
//! (`report::labels`): TLS handshake messages and Application Data records with what
//! they carry (the key log given), HTTP/2 frames on cleartext h2.

use std::path::PathBuf;
use std::process::Command;
use tcpscope::capture::Source;
use tcpscope::pipeline::Config;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// `tcpscope diagram FILE ARGS`: stdout, after a successful run.
fn diagram(file: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .arg("diagram")
        .arg(path(file))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn tls_diagram_labels_handshake_and_application_data() {
    let keys = path("tls/tls13-aes128.keys");
    let k = keys.to_str().unwrap();
    let a = diagram(
        "tls/tls13-aes128.pcap",
        &["--format", "ascii", "--keylog", k],
    );
    // tshark -o tls.keylog_file:… -Y tls -e frame.number -e tls.record.length:
    // 9: 98 (GET), 15: 1757 (200).
    for want in [
        "[4] PSH, ACK seq=1 ack=1 len=253 ClientHello (SNI tls.test, ALPN http/1.1)",
        "ServerHello TLS 1.3 AES_128_GCM, ChangeCipherSpec, {EncryptedExtensions, Certificate, CertificateVerify, Finished}",
        "[9] PSH, ACK seq=318 ack=1360 len=103 Application Data 98 B -> GET /small.txt",
        "[15] PSH, ACK seq=2966 ack=421 len=314 Application Data 1,757 B -> 200 OK",
        "[16] PSH, ACK seq=421 ack=3280 len=24 Alert close_notify",
    ] {
        assert!(a.contains(want), "{want}:\n{a}");
    }
    let m = diagram(
        "tls/tls13-aes128.pcap",
        &["--format", "mermaid", "--keylog", k],
    );
    // Braces are Mermaid syntax: written as entities.
    assert!(m.contains("ChangeCipherSpec, #123;Finished#125;"), "{m}");
    assert!(m.contains("Application Data 98 B → GET /small.txt"), "{m}");
    // Without the key log: the sizes, not what they carry.
    let a = diagram("tls/tls13-nokeys.pcap", &["--format", "ascii"]);
    assert!(a.contains("ClientHello (SNI tls.test"), "{a}");
    assert!(a.contains("Application Data "), "{a}");
    assert!(!a.contains("-> GET"), "{a}");
}

#[test]
fn h2_diagram_labels_frames() {
    let a = diagram("h2-nghttp-multi.pcap", &["--format", "ascii"]);
    for want in [
        "[13] PSH, ACK seq=15944 ack=262 len=14480 DATA s15 16 kB",
        "[16] PSH, ACK seq=44904 ack=262 len=20868 DATA s19 18 B END_STREAM + DATA s13 16 kB",
        "[22] PSH, ACK seq=288 ack=124080 len=17 GOAWAY s0",
    ] {
        assert!(a.contains(want), "{want}:\n{a}");
    }
    let s = diagram("h2-nghttp-multi.pcap", &["--format", "svg"]);
    assert!(s.contains("DATA s15 16 kB"), "{s}");
}

/// The diagram's labels are the TUI's: each label `report::labels` gives is in the
/// diagram, on its frame's arrow.
#[test]
fn one_label_source_for_the_diagram_and_the_tui() {
    let mut cfg = Config::default();
    cfg.engine.keep_packets = true;
    let src = Source::File(path("h2-prior-knowledge.pcap"));
    let (_, conns) = tcpscope::headless::run(&src, cfg).unwrap();
    let labels = tcpscope::report::labels::read_labels(&src, &conns[0]);
    assert!(labels.len() >= 4, "{labels:?}");
    let m = diagram("h2-prior-knowledge.pcap", &["--format", "svg"]);
    for (f, l) in &labels {
        let want = format!("[{f}] ");
        let line = m
            .lines()
            .find(|x| x.contains(&want))
            .unwrap_or_else(|| panic!("frame {f}: {m}"));
        assert!(line.contains(&l.full), "{f} {l:?}: {line}");
    }
}
