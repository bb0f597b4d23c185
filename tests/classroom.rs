//! The classroom commands on the bundled captures: `explain` narratives and `diagram`
//! ladders as snapshots (the captures' times are fixed, nothing is filtered), every
//! Mermaid diagram checked against the sequenceDiagram grammar, every SVG parsed as XML,
//! and the line-based quiz driven by piped answers.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use tcpscope::capture::Source;
use tcpscope::explain::narrative::{self, Style};
use tcpscope::explain::quiz::Kind;
use tcpscope::pipeline::{Config, Connection};
use tcpscope::report::diagram::{self, DiagramFormat, Options};

fn capture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

fn load(name: &str) -> Vec<Connection> {
    let mut cfg = Config::default();
    cfg.engine.keep_packets = true;
    let (_, conns) = tcpscope::headless::run(&Source::File(capture(name)), cfg).expect(name);
    conns
}

fn bundled() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(capture(""))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap"))
        .collect();
    v.sort();
    v
}

// --- explain -------------------------------------------------------------------------

#[test]
fn explain_http_get_text() {
    let c = &load("http-get.pcap")[0];
    let t = narrative::render(c, Style::Text);
    // The arithmetic with the real ISNs.
    assert!(
        t.contains(
            "In raw numbers: the server answers ACK 287232227: the client's ISN 287232226 plus 1, because a SYN counts as one byte."
        ),
        "{t}"
    );
    assert!(t.contains("client state: SYN-SENT → ESTABLISHED: received SYN-ACK for its SYN"));
    assert!(t.contains("HTTP request 1: GET /index.html (HTTP/1.1)"));
    assert!(t.contains("HTTP response 1: 200 OK to GET /index.html"));
    insta::assert_snapshot!("explain_http_get_text", t);
}

#[test]
fn explain_keepalive_markdown() {
    let c = &load("http-keepalive.pcap")[0];
    let t = narrative::render(c, Style::Markdown);
    assert!(t.starts_with("## Connection 1: "), "{t}");
    assert!(t.contains("HTTP keep-alive: the 2nd request reuses this connection"));
    insta::assert_snapshot!("explain_http_keepalive_markdown", t);
}

#[test]
fn explain_half_close_and_pipelined() {
    let c = &load("tcp-half-close.pcap")[0];
    let t = narrative::render(c, Style::Text);
    assert!(t.contains(
        "no Content-Length and not chunked: the body ends when the server closes the connection"
    ));
    assert!(
        t.contains("server state: ESTABLISHED → CLOSE-WAIT: received FIN"),
        "{t}"
    );
    insta::assert_snapshot!("explain_tcp_half_close_text", t);
    let c = &load("http-pipelined.pcap")[0];
    let t = narrative::render(c, Style::Text);
    assert!(
        t.contains("HTTP pipelining: request 2 is sent before response 1 has arrived"),
        "{t}"
    );
}

#[test]
fn explain_names_analysis_rules() {
    let c = &load("tcp-lossy-client-side.pcap")[0];
    let t = narrative::render(c, Style::Text);
    assert!(
        t.contains("⚠ Previous segment not captured: seq 63966 > next expected 62518: 1448 bytes before it were not captured"),
        "missing lost-segment rule"
    );
    assert!(t.contains("⚠ Dup ACK: dup ACK #1 of frame 81: no data, same ACK 62518"));
}

// --- Mermaid grammar -----------------------------------------------------------------

/// A small checker of the subset of Mermaid's sequenceDiagram grammar tcpscope writes.
fn check_mermaid(src: &str) -> Result<(), String> {
    let mut lines = src.lines();
    if lines.next() != Some("sequenceDiagram") {
        return Err("first line is not `sequenceDiagram`".into());
    }
    let mut participants: Vec<String> = Vec::new();
    let mut arrows = 0;
    let mut notes = 0;
    let label_ok = |l: &str| -> Result<(), String> {
        if l.trim().is_empty() {
            return Err("empty label".into());
        }
        // Entity codes `#NN;` are how special characters are written; drop them first,
        // then nothing Mermaid reads as syntax may remain.
        let mut bare = String::new();
        let mut rest = l;
        while let Some(i) = rest.find('#') {
            bare.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 || !after[digits..].starts_with(';') {
                return Err(format!("raw '#' in label {l:?}"));
            }
            rest = &after[digits + 1..];
        }
        bare.push_str(rest);
        for bad in [';', ':', '%', '<', '>', '"', '{', '}', '`'] {
            if bare.contains(bad) {
                return Err(format!("raw {bad:?} in label {l:?}"));
            }
        }
        let opens = bare.matches('(').count() + bare.matches('[').count();
        let closes = bare.matches(')').count() + bare.matches(']').count();
        if opens != closes {
            return Err(format!("unbalanced brackets in {l:?}"));
        }
        Ok(())
    };
    for (n, raw) in lines.enumerate() {
        let line = raw.trim();
        let err = |e: String| format!("line {}: {e}: {raw:?}", n + 2);
        if line.is_empty() || line.starts_with("%%") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("participant ") {
            let (id, alias) = rest
                .split_once(" as ")
                .ok_or_else(|| err("participant without `as`".into()))?;
            if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(err("bad participant id".into()));
            }
            label_ok(alias).map_err(err)?;
            participants.push(id.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("Note ") {
            let (place, text) = rest
                .split_once(": ")
                .ok_or_else(|| err("note without `: `".into()))?;
            let who = if let Some(w) = place.strip_prefix("over ") {
                w.split(',').map(str::to_string).collect::<Vec<_>>()
            } else if let Some(w) = place
                .strip_prefix("left of ")
                .or_else(|| place.strip_prefix("right of "))
            {
                vec![w.to_string()]
            } else {
                return Err(err("bad note placement".into()));
            };
            if who.iter().any(|w| !participants.contains(w)) {
                return Err(err("note on an unknown participant".into()));
            }
            label_ok(text).map_err(err)?;
            notes += 1;
            continue;
        }
        let (lhs, label) = line
            .split_once(": ")
            .ok_or_else(|| err("not a participant, note or arrow".into()))?;
        let (a, b) = lhs
            .split_once("-->>")
            .or_else(|| lhs.split_once("->>"))
            .ok_or_else(|| err("arrow is not ->> or -->>".into()))?;
        if !participants.iter().any(|p| p == a) || !participants.iter().any(|p| p == b) {
            return Err(err("arrow between unknown participants".into()));
        }
        label_ok(label).map_err(err)?;
        arrows += 1;
    }
    if participants.len() != 2 {
        return Err(format!("{} participants", participants.len()));
    }
    if arrows + notes == 0 {
        return Err("no arrow and no note".into());
    }
    Ok(())
}

#[test]
fn mermaid_checker_rejects_bad_input() {
    assert!(
        check_mermaid(
            "sequenceDiagram\n    participant C as a\n    participant S as b\n    C->>S: ok"
        )
        .is_ok()
    );
    assert!(check_mermaid("graph TD\n").is_err());
    assert!(
        check_mermaid(
            "sequenceDiagram\n    participant C as a#58;b\n    participant S as b\n    C->>S: #35;1"
        )
        .is_ok()
    );
    assert!(
        check_mermaid(
            "sequenceDiagram\n    participant C as a\n    participant S as b\n    C->>S: #1"
        )
        .is_err()
    );
    assert!(
        check_mermaid(
            "sequenceDiagram\n    participant C as a\n    participant S as b\n    C->>S: a;b"
        )
        .is_err()
    );
    assert!(
        check_mermaid(
            "sequenceDiagram\n    participant C as a\n    participant S as b\n    C->>X: a"
        )
        .is_err()
    );
    assert!(
        check_mermaid(
            "sequenceDiagram\n    participant C as a\n    participant S as b\n    C->>S: a (b"
        )
        .is_err()
    );
    assert!(check_mermaid("sequenceDiagram\n    participant C as a\n    participant S as b\n    C->>S: x\n    Note over C,S: a: b").is_err());
}

#[test]
fn mermaid_of_every_bundled_connection_parses() {
    for name in bundled() {
        for c in load(&name) {
            for handshake_only in [false, true] {
                let m = diagram::render(&c, DiagramFormat::Mermaid, Options { handshake_only });
                if let Err(e) = check_mermaid(&m) {
                    panic!("{name} conn {}: {e}", c.id);
                }
            }
        }
    }
}

#[test]
fn mermaid_http_get_snapshot() {
    let c = &load("http-get.pcap")[0];
    let m = diagram::render(c, DiagramFormat::Mermaid, Options::default());
    assert!(
        m.contains("participant C as Client 10.77.1.2#58;39778"),
        "{m}"
    );
    insta::assert_snapshot!("diagram_http_get_mermaid", m);
    let c = &load("tcp-lossy-server-side.pcap")[0];
    let m = diagram::render(c, DiagramFormat::Mermaid, Options::default());
    assert!(
        m.contains("Note over C,S: ⚠ "),
        "lossy capture shows analysis notes"
    );
    let c = &load("http-ipv6.pcap")[0];
    let m = diagram::render(
        c,
        DiagramFormat::Mermaid,
        Options {
            handshake_only: true,
        },
    );
    insta::assert_snapshot!("diagram_http_ipv6_handshake_mermaid", m);
}

// --- ASCII ---------------------------------------------------------------------------

#[test]
fn ascii_snapshots() {
    let c = &load("http-get.pcap")[0];
    let a = diagram::render(c, DiagramFormat::Ascii, Options::default());
    assert!(a.is_ascii());
    assert!(a.contains("-->|") && a.contains("|<--"), "{a}");
    insta::assert_snapshot!("diagram_http_get_ascii", a);
    let c = &load("tcp-syn-retry.pcap")[0];
    let a = diagram::render(
        c,
        DiagramFormat::Ascii,
        Options {
            handshake_only: true,
        },
    );
    assert!(
        a.contains("!! Retransmission") || a.contains("[2] SYN"),
        "{a}"
    );
    insta::assert_snapshot!("diagram_tcp_syn_retry_handshake_ascii", a);
    let c = &load("tcp-refused.pcap")[0];
    let a = diagram::render(
        c,
        DiagramFormat::Ascii,
        Options {
            handshake_only: true,
        },
    );
    insta::assert_snapshot!("diagram_tcp_refused_ascii", a);
}

// --- SVG -----------------------------------------------------------------------------

#[test]
fn svg_of_every_bundled_connection_is_well_formed_xml() {
    for name in bundled() {
        for c in load(&name) {
            let s = diagram::render(&c, DiagramFormat::Svg, Options::default());
            let doc = roxmltree::Document::parse(&s)
                .unwrap_or_else(|e| panic!("{name} conn {}: {e}", c.id));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            let lines = doc.descendants().filter(|n| n.has_tag_name("line")).count();
            // Two lifelines and one arrow per packet.
            let pkts = c
                .summary
                .as_ref()
                .and_then(|s| s.packets.as_ref())
                .map_or(0, Vec::len);
            assert_eq!(lines, 2 + pkts, "{name}");
        }
    }
}

#[test]
fn svg_http_get_handshake_snapshot() {
    let c = &load("http-get.pcap")[0];
    let s = diagram::render(
        c,
        DiagramFormat::Svg,
        Options {
            handshake_only: true,
        },
    );
    insta::assert_snapshot!("diagram_http_get_handshake_svg", s);
}

// --- quiz ----------------------------------------------------------------------------

#[test]
fn quiz_with_piped_answers() {
    let c = &load("http-get.pcap")[0];
    // Frame 1 (SYN): flags, state. Frame 2 (SYN-ACK): flags, ack, state. Then stop.
    let answers = "syn\nsyn-sent\nSA\n1\nestablished\nq\n";
    let mut out = Vec::new();
    let score =
        tcpscope::classroom::quiz_lines(c, &Kind::ALL, false, 0, &mut answers.as_bytes(), &mut out)
            .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!((score.right, score.asked), (4, 5), "{out}");
    assert!(
        out.contains("not quite: the answer is SYN-RECEIVED"),
        "{out}"
    );
    assert!(out.contains("ISN 287232226 plus 1"), "{out}");
    assert!(out.contains("Score: 4/5 (80%)"), "{out}");
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
}

#[test]
fn cli_quiz_reads_stdin_to_eof() {
    let mut child = bin()
        .args(["quiz", "--ask", "flags"])
        .arg(capture("tcp-refused.pcap"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"S\nrst ack\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("Score: 2/2 (100%)"), "{s}");
}

#[test]
fn cli_explain_and_diagram() {
    let out = bin()
        .args(["explain", "--conn", "1", "--format", "markdown"])
        .arg(capture("http-get.pcap"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("## Connection 1"));
    let out = bin()
        .args(["explain", "--conn", "7"])
        .arg(capture("http-get.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("has no connection 7"), "{e}");
    let out = bin()
        .args(["diagram", "--conn", "1", "--format", "svg"])
        .arg(capture("http-get.pcap"))
        .output()
        .unwrap();
    assert!(out.status.success());
    roxmltree::Document::parse(&String::from_utf8_lossy(&out.stdout)).unwrap();
}
