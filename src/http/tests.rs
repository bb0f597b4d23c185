//! Assembler-level tests: table-driven samples fed whole, split at every
//! offset and byte-by-byte; pipelining, gaps, resync, hostile input.
//!
//! Owns: test fixtures only. Must not touch library state beyond the public
//! `HttpAssembler` API.

use std::io::Write;

use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use sha2::{Digest, Sha256};

use super::*;
use crate::ts::Ts;

#[derive(Clone)]
enum Step {
    Push(Dir, Vec<u8>),
    Fin(Dir),
}
use Step::*;

fn c(s: &[u8]) -> Step {
    Push(Dir::Client, s.to_vec())
}
fn s(b: &[u8]) -> Step {
    Push(Dir::Server, b.to_vec())
}

/// The anomalies as the reports word them.
fn texts(a: &[Anomaly]) -> Vec<String> {
    a.iter().map(Anomaly::to_string).collect()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Run steps; step k's bytes carry frame k+1 and ts (k+1) ms, so results do
/// not depend on how the bytes are split into pushes.
fn run_with(
    cfg: HttpConfig,
    steps: &[Step],
    split: impl Fn(usize, &[u8]) -> Vec<Vec<u8>>,
) -> HttpAssembler {
    let mut a = HttpAssembler::new(cfg);
    for (k, st) in steps.iter().enumerate() {
        let frame = k as u64 + 1;
        let ts = (k as i64 + 1) * 1_000_000;
        match st {
            Push(d, bytes) => {
                for piece in split(k, bytes) {
                    a.push(*d, &piece, frame, Ts(ts));
                }
            }
            Fin(d) => a.fin(*d, frame, Ts(ts)),
        }
    }
    a
}

fn run(steps: &[Step]) -> HttpAssembler {
    run_with(HttpConfig::default(), steps, |_, b| vec![b.to_vec()])
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).expect("zlib");
    e.finish().expect("zlib")
}

fn sha(data: &[u8]) -> String {
    body::hex(&Sha256::digest(data))
}

/// Expected outcome of one exchange.
struct Want {
    method: Option<&'static str>,
    status: Option<u16>,
    resp_body: &'static [u8],
    interim: &'static [u16],
}

struct Sample {
    name: &'static str,
    steps: Vec<Step>,
    want: Vec<Want>,
}

const GET: &[u8] = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
const BR_PLAIN: &[u8] = b"hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world hello brotli world ";
/// `brotli.compress(BR_PLAIN)` from the Python brotli package (the Rust
/// dependency only decompresses).
const BR_DATA: &[u8] = &[
    27, 123, 1, 136, 28, 169, 83, 159, 187, 112, 45, 86, 134, 38, 39, 65, 216, 232, 26, 36, 141,
    237, 77, 13, 196, 88, 112, 156, 53, 254, 196, 17, 2,
];
const PLAIN: &[u8] =
    b"the quick brown fox jumps over the lazy dog; the quick brown fox jumps over the lazy dog";

fn want(method: &'static str, status: u16, resp_body: &'static [u8]) -> Want {
    Want {
        method: Some(method),
        status: Some(status),
        resp_body,
        interim: &[],
    }
}

fn samples() -> Vec<Sample> {
    let gz = gzip(PLAIN);
    let zl = zlib(PLAIN);
    let enc = |ce: &str, body: &[u8]| {
        cat(&[
            format!(
                "HTTP/1.1 200 OK\r\nContent-Encoding: {ce}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
            body,
        ])
    };
    vec![
        Sample {
            name: "get no body",
            steps: vec![c(GET), s(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")],
            want: vec![want("GET", 200, b"hello")],
        },
        Sample {
            name: "post content-length",
            steps: vec![
                c(b"POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"),
                s(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
            ],
            want: vec![want("POST", 201, b"")],
        },
        Sample {
            name: "chunked with extensions and trailers",
            steps: vec![
                c(GET),
                s(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5;name=val\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-Sum: abc\r\n\r\n"),
            ],
            want: vec![want("GET", 200, b"hello world")],
        },
        Sample {
            name: "gzip",
            steps: vec![c(GET), s(&enc("gzip", &gz))],
            want: vec![want("GET", 200, PLAIN)],
        },
        Sample {
            name: "deflate",
            steps: vec![c(GET), s(&enc("deflate", &zl))],
            want: vec![want("GET", 200, PLAIN)],
        },
        Sample {
            name: "br",
            steps: vec![c(GET), s(&enc("br", BR_DATA))],
            want: vec![want("GET", 200, BR_PLAIN)],
        },
        Sample {
            name: "head then get",
            steps: vec![
                c(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"),
                s(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"),
                c(GET),
                s(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
            ],
            want: vec![want("HEAD", 200, b""), want("GET", 200, b"ok")],
        },
        Sample {
            name: "204 and 304",
            steps: vec![
                c(GET),
                s(b"HTTP/1.1 204 No Content\r\n\r\n"),
                c(GET),
                s(b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 100\r\n\r\n"),
            ],
            want: vec![want("GET", 204, b""), want("GET", 304, b"")],
        },
        Sample {
            name: "1xx then final",
            steps: vec![
                c(b"POST /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"),
                s(b"HTTP/1.1 100 Continue\r\n\r\n"),
                c(b"abc"),
                s(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
            ],
            want: vec![Want {
                method: Some("POST"),
                status: Some(200),
                resp_body: b"ok",
                interim: &[100, 103],
            }],
        },
        Sample {
            name: "close delimited",
            steps: vec![c(GET), s(b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close"), Fin(Dir::Server)],
            want: vec![want("GET", 200, b"body until close")],
        },
    ]
}

fn check(name: &str, a: &HttpAssembler, want: &[Want]) {
    let ex = a.exchanges();
    assert_eq!(ex.len(), want.len(), "{name}: {ex:#?}");
    for (e, w) in ex.iter().zip(want) {
        assert!(e.anomalies.is_empty(), "{name}: {:?}", e.anomalies);
        assert!(e.complete, "{name}: {e:#?}");
        assert_eq!(
            e.request.as_ref().map(|r| r.method.as_str()),
            w.method,
            "{name}"
        );
        let resp = e.response.as_ref().expect("response");
        assert_eq!(Some(resp.status), w.status, "{name}");
        assert_eq!(resp.body.as_deref(), Some(w.resp_body), "{name}");
        assert_eq!(resp.body_bytes_decoded, w.resp_body.len() as u64, "{name}");
        assert_eq!(
            e.interim.iter().map(|i| i.status).collect::<Vec<_>>(),
            w.interim,
            "{name}"
        );
        let has_body = resp.body_bytes > 0 || resp.chunked;
        if has_body {
            assert_eq!(
                resp.body_sha256.as_deref(),
                Some(sha(w.resp_body).as_str()),
                "{name}"
            );
        }
        assert!(e.ttfb_ms.is_some() && e.total_ms.is_some(), "{name}");
    }
    assert_eq!(a.app(), AppProto::Http, "{name}");
    assert_eq!(
        a.unparsed_bytes(Dir::Client) + a.unparsed_bytes(Dir::Server),
        0,
        "{name}"
    );
}

fn finished_msgs(a: &HttpAssembler) -> usize {
    a.exchanges()
        .iter()
        .map(|e| {
            usize::from(e.request.as_ref().is_some_and(|r| r.complete))
                + usize::from(e.response.as_ref().is_some_and(|r| r.complete))
        })
        .sum()
}

fn snapshot(a: &HttpAssembler) -> String {
    format!("{:?} {:?}", a.exchanges(), a.anomalies())
}

#[test]
fn samples_whole_split_and_bytewise() {
    for sm in samples() {
        let whole = run(&sm.steps);
        check(sm.name, &whole, &sm.want);
        let reference = snapshot(&whole);

        let bytewise = run_with(HttpConfig::default(), &sm.steps, |_, b| {
            b.iter().map(|&x| vec![x]).collect()
        });
        assert_eq!(snapshot(&bytewise), reference, "{} bytewise", sm.name);

        for (k, st) in sm.steps.iter().enumerate() {
            let Push(dir, bytes) = st else { continue };
            for i in 0..bytes.len() {
                // Every split point of step k gives the same final result.
                let split = run_with(HttpConfig::default(), &sm.steps, |j, b| {
                    if j == k {
                        vec![b[..i].to_vec(), b[i..].to_vec()]
                    } else {
                        vec![b.to_vec()]
                    }
                });
                assert_eq!(
                    snapshot(&split),
                    reference,
                    "{} step {k} split {i}",
                    sm.name
                );

                // The prefix alone: partial, never an anomaly.
                let mut prefix_steps: Vec<Step> = sm.steps[..k].to_vec();
                prefix_steps.push(Push(*dir, bytes[..i].to_vec()));
                let p = run(&prefix_steps);
                assert!(p.anomalies().is_empty(), "{} prefix {k}/{i}", sm.name);
                for e in p.exchanges() {
                    assert!(
                        e.anomalies.is_empty(),
                        "{} prefix {k}/{i}: {:?}",
                        sm.name,
                        e.anomalies
                    );
                }
                // If the step finishes a message, no strict prefix of it does.
                let before = finished_msgs(&run(&sm.steps[..k]));
                let after = finished_msgs(&run(&sm.steps[..=k]));
                let got = finished_msgs(&p);
                assert!(
                    got == before || (got < after && after > before),
                    "{} prefix {k}/{i} completed early",
                    sm.name
                );
            }
        }
        // finish() after a complete run changes nothing but the flag.
        let mut fin = run(&sm.steps);
        fin.finish();
        assert_eq!(snapshot(&fin), reference, "{} finish", sm.name);
    }
}

#[test]
fn each_prefix_of_response_is_incomplete() {
    let resp =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n";
    for i in 0..resp.len() {
        let a = run(&[c(GET), s(&resp[..i])]);
        let e = &a.exchanges()[0];
        assert!(!e.complete && e.anomalies.is_empty(), "prefix {i}");
        assert!(e.response.as_ref().is_none_or(|r| !r.complete));
    }
}

#[test]
fn pipelining_fifo() {
    let a = run(&[
        c(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nPOST /3 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"),
        s(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n3"),
    ]);
    let ex = a.exchanges();
    assert_eq!(ex.len(), 3);
    for (i, e) in ex.iter().enumerate() {
        let n = (i + 1).to_string();
        assert_eq!(
            e.request.as_ref().map(|r| r.uri.clone()),
            Some(format!("/{n}"))
        );
        assert_eq!(
            e.response.as_ref().and_then(|r| r.body.clone()),
            Some(n.into_bytes())
        );
        assert!(e.complete);
    }
}

#[test]
fn expect_continue_final_before_body() {
    // Server refuses before the body; the client skips it and moves on.
    let a = run(&[
        c(b"PUT /big HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"),
        s(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n"),
        c(b"GET /next HTTP/1.1\r\n\r\n"),
        s(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    let ex = a.exchanges();
    assert_eq!(ex.len(), 2, "{ex:#?}");
    assert_eq!(ex[0].response.as_ref().map(|r| r.status), Some(417));
    assert!(
        ex[0].anomalies[0]
            .to_string()
            .starts_with("expect 100-continue")
    );
    assert_eq!(
        ex[1].request.as_ref().map(|r| r.uri.as_str()),
        Some("/next")
    );
    assert!(ex[1].complete);

    // Server answers early but the client sends the body anyway.
    let a = run(&[
        c(b"PUT /big HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"),
        s(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        c(b"hello"),
    ]);
    let ex = a.exchanges();
    assert_eq!(ex.len(), 1);
    assert!(ex[0].complete && ex[0].anomalies.is_empty());
    assert_eq!(
        ex[0].request.as_ref().and_then(|r| r.body.clone()),
        Some(b"hello".to_vec())
    );
}

fn two_gets() -> Step {
    c(b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n")
}

#[test]
fn gap_in_body_then_resync() {
    for chunked in [false, true] {
        let mut a = HttpAssembler::new(HttpConfig::default());
        if let Push(d, b) = two_gets() {
            a.push(d, &b, 1, Ts(1));
        }
        let head: &[u8] = if chunked {
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n0123456789"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"
        };
        a.push(Dir::Server, head, 2, Ts(2));
        a.gap(Dir::Server, 140);
        a.push(
            Dir::Server,
            b"tail of something\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            3,
            Ts(3),
        );
        let ex = a.exchanges();
        assert_eq!(ex.len(), 2);
        assert!(!ex[0].complete);
        assert_eq!(
            texts(&ex[0].anomalies),
            vec!["gap of 140 bytes".to_string()]
        );
        let r0 = ex[0].response.as_ref().expect("resp");
        assert!(!r0.complete && r0.body_sha256.is_none());
        assert!(ex[1].complete && ex[1].anomalies.is_empty());
        assert_eq!(
            ex[1].response.as_ref().and_then(|r| r.body.clone()),
            Some(b"ok".to_vec())
        );
        assert_eq!(a.unparsed_bytes(Dir::Server), 19);
    }
}

#[test]
fn gap_inside_known_length_keeps_framing() {
    let mut a = HttpAssembler::new(HttpConfig::default());
    a.push(
        Dir::Client,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
        1,
        Ts(1),
    );
    a.push(
        Dir::Server,
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
        2,
        Ts(2),
    );
    a.gap(Dir::Server, 40);
    a.push(Dir::Server, &[b'x'; 50], 3, Ts(3));
    a.push(
        Dir::Server,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        4,
        Ts(4),
    );
    let ex = a.exchanges();
    assert_eq!(ex.len(), 2);
    assert!(
        !ex[0].complete
            && ex[0]
                .response
                .as_ref()
                .is_some_and(|r| r.body_sha256.is_none())
    );
    assert!(ex[1].complete);
    assert_eq!(a.unparsed_bytes(Dir::Server), 0);
}

#[test]
fn mid_body_start_invents_nothing() {
    let mut a = HttpAssembler::new(HttpConfig::default());
    // Body bytes that contain HTTP-ish text, but never at a plausible start.
    let junk: &[u8] = b"ary data \x00\x01\xff more body\r\nHTTP/1.1 is great\r\nx GET / HTTP/1.1\r\nget / HTTP/1.1\r\n";
    a.push(Dir::Server, junk, 1, Ts(1));
    a.push(Dir::Client, b"name=a&b=GET / HTTP/1.1 trailing", 2, Ts(2));
    assert!(a.exchanges().is_empty());
    assert_eq!(a.unparsed_bytes(Dir::Server), junk.len() as u64);
    assert_eq!(a.app(), AppProto::Unknown);
    // A real message after the junk is parsed.
    a.push(
        Dir::Server,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        3,
        Ts(3),
    );
    assert_eq!(a.app(), AppProto::Http);
    assert_eq!(a.exchanges().len(), 1);
    assert!(a.exchanges()[0].request.is_none());
}

#[test]
fn malformed_inputs_flagged() {
    let big_header = cat(&[
        b"GET / HTTP/1.1\r\nX: ",
        &vec![b'a'; 70 * 1024],
        b"\r\n\r\n",
    ]);
    let many: String = (0..101).map(|i| format!("H{i}: v\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\n{many}\r\n").into_bytes();
    let ok_resp: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let cases: Vec<(&str, Vec<u8>, Vec<u8>, &str)> = vec![
        (
            "too large",
            big_header,
            ok_resp.to_vec(),
            "header section too large",
        ),
        (
            "too many",
            many,
            ok_resp.to_vec(),
            "too many headers (more than 100)",
        ),
        (
            "bad chunk",
            GET.to_vec(),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc".to_vec(),
            "invalid chunk size",
        ),
        (
            "cl+te",
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                .to_vec(),
            ok_resp.to_vec(),
            "both Content-Length and Transfer-Encoding (request smuggling ambiguity)",
        ),
        (
            "dup cl",
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc".to_vec(),
            ok_resp.to_vec(),
            "duplicate differing Content-Length",
        ),
        (
            "bare lf",
            b"GET / HTTP/1.1\nHost: x\n\n".to_vec(),
            ok_resp.to_vec(),
            "bare LF line ending",
        ),
        (
            "obs fold",
            b"GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n".to_vec(),
            ok_resp.to_vec(),
            "obsolete line folding",
        ),
        (
            "bad name",
            b"GET / HTTP/1.1\r\nX-\xc3\xa9t\x01: v\r\nHost: x\r\n\r\n".to_vec(),
            ok_resp.to_vec(),
            "invalid bytes in header name",
        ),
        (
            "huge cl",
            GET.to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nabc".to_vec(),
            "incomplete at end of capture",
        ),
        (
            "overflow cl",
            GET.to_vec(),
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nabc".to_vec(),
            "invalid Content-Length",
        ),
    ];
    for (name, req, resp, anomaly) in cases {
        let mut a = run(&[c(&req), s(&resp)]);
        a.finish();
        let ex = a.exchanges();
        assert!(!ex.is_empty(), "{name}");
        assert!(
            ex[0].anomalies.iter().any(|x| x.to_string() == *anomaly),
            "{name}: {:?}",
            ex[0].anomalies
        );
        // Parsing continued: the response is still paired with the request.
        assert!(ex[0].response.is_some(), "{name}: {ex:#?}");
    }
    // Folded value is kept, joined with a space; bad names are kept lossily.
    let a = run(&[c(b"GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n")]);
    let h = &a.exchanges()[0].request.as_ref().expect("req").headers;
    assert_eq!(h[0], ("X-A".to_string(), "one two".to_string()));
}

#[test]
fn zip_bomb_is_capped() {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..200 {
        enc.write_all(&zeros).expect("gzip");
    }
    let gz = enc.finish().expect("gzip");
    assert!(gz.len() < 1 << 20, "compressed size {}", gz.len());
    let cfg = HttpConfig {
        decoded_cap: 1 << 20,
        ..HttpConfig::default()
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gz.len()
    );
    let mut a = HttpAssembler::new(cfg);
    a.push(Dir::Client, GET, 1, Ts(1));
    a.push(Dir::Server, head.as_bytes(), 2, Ts(2));
    for chunk in gz.chunks(1460) {
        a.push(Dir::Server, chunk, 3, Ts(3));
    }
    let e = &a.exchanges()[0];
    assert!(
        texts(&e.anomalies)
            .contains(&"decompression bomb: output exceeds 1048576 bytes".to_string()),
        "{:?}",
        e.anomalies
    );
    let r = e.response.as_ref().expect("resp");
    assert!(r.complete, "framing still completes");
    assert!(r.body_sha256.is_none() && r.body.is_none());
    assert!(r.body_bytes_decoded <= 1 << 20);
    assert_eq!(r.body_bytes, gz.len() as u64);
}

#[test]
fn body_cap_keeps_hash() {
    let body = vec![b'z'; 3000];
    let cfg = HttpConfig {
        body_cap: 1000,
        ..HttpConfig::default()
    };
    let resp = cat(&[b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n", &body]);
    let a = run_with(cfg, &[c(GET), s(&resp)], |_, b| vec![b.to_vec()]);
    let r = a.exchanges()[0].response.as_ref().expect("resp");
    assert!(r.body.is_none() && r.body_truncated);
    assert_eq!(r.body_sha256, Some(sha(&body)));
    assert_eq!(r.body_bytes_decoded, 3000);
}

#[test]
fn upgrade_and_connect_stop_parsing() {
    let a = run(&[
        c(b"GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        s(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"),
        c(b"GET / HTTP/1.1\r\n\r\n"),
        s(b"HTTP/1.1 200 OK\r\n\r\n"),
    ]);
    assert_eq!(a.exchanges().len(), 1);
    let e = &a.exchanges()[0];
    assert_eq!(texts(&e.anomalies), vec!["upgraded: websocket".to_string()]);
    assert!(e.complete);

    let a = run(&[
        c(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
        s(b"HTTP/1.1 200 Connection established\r\n\r\n"),
        c(b"\x16\x03\x01\x00\x05hello"),
        s(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(a.exchanges().len(), 1);
    assert_eq!(
        texts(&a.exchanges()[0].anomalies),
        vec!["tunnel".to_string()]
    );
}

#[test]
fn detection() {
    let cases: &[(Dir, &[u8], AppProto)] = &[
        (Dir::Client, b"\x16\x03\x01\x02\x00\x01\x00", AppProto::Tls),
        (Dir::Server, b"SSH-2.0-OpenSSH_9.6\r\n", AppProto::Ssh),
        // A greeting alone does not tell SMTP from FTP.
        (
            Dir::Server,
            b"220 mx.example.com ESMTP\r\n",
            AppProto::Unknown,
        ),
        (Dir::Client, b"EHLO me\r\n", AppProto::Smtp),
        (Dir::Client, b"GET / HTTP/1.1\r\n\r\n", AppProto::Http),
        (Dir::Server, b"HTTP/1.1 200 OK\r\n\r\n", AppProto::Http),
        (Dir::Client, b"\x00\x00\x00\x01binary", AppProto::Unknown),
    ];
    for (dir, data, want) in cases {
        // Fed whole and byte by byte.
        let mut a = HttpAssembler::new(HttpConfig::default());
        a.push(*dir, data, 1, Ts(1));
        a.finish();
        assert_eq!(a.app(), *want, "{data:?}");
        let mut a = HttpAssembler::new(HttpConfig::default());
        for b in data.iter() {
            a.push(*dir, &[*b], 1, Ts(1));
        }
        a.finish();
        assert_eq!(a.app(), *want, "bytewise {data:?}");
        if *want != AppProto::Http {
            assert!(a.exchanges().is_empty());
        }
    }
}

#[test]
fn timing_and_events() {
    let mut a = HttpAssembler::new(HttpConfig::default());
    a.push(
        Dir::Client,
        b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab",
        1,
        Ts(1_000_000_000),
    );
    a.push(Dir::Client, b"cd", 2, Ts(1_010_000_000));
    assert_eq!(
        a.take_new_events(),
        vec![HttpEvent::RequestComplete { idx: 0 }]
    );
    a.push(
        Dir::Server,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
        3,
        Ts(1_050_000_000),
    );
    assert!(a.take_new_events().is_empty());
    a.push(Dir::Server, b"ok", 4, Ts(1_100_000_000));
    assert_eq!(
        a.take_new_events(),
        vec![HttpEvent::ResponseComplete { idx: 0 }]
    );
    let e = &a.exchanges()[0];
    assert_eq!(e.ttfb_ms, Some(40.0));
    assert_eq!(e.total_ms, Some(100.0));
    let r = e.request.as_ref().expect("req");
    assert_eq!((r.frame, r.end_frame), (1, 2));
    let resp = e.response.as_ref().expect("resp");
    assert_eq!((resp.frame, resp.end_frame), (3, 4));
}

#[test]
fn finish_marks_pending_incomplete() {
    let mut a = run(&[
        c(b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
        s(b"HTTP/1.1 200 OK\r\n\r\npartial close-delimited"),
    ]);
    a.finish();
    let ex = a.exchanges();
    assert_eq!(ex.len(), 2);
    assert!(ex.iter().all(|e| !e.complete));
    assert_eq!(ex[0].response.as_ref().map(|r| r.body_bytes), Some(23));
}

#[test]
fn hostile_random_input_never_panics() {
    // Cheap deterministic fuzz: xorshift bytes mixed with HTTP fragments.
    let frags: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\n",
        b"HTTP/1.1 200 OK\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Content-Length: 5\r\n",
        b"\r\n",
        b"\n",
        b"0\r\n\r\n",
        b"ffffffff\r\n",
        b"Content-Encoding: gzip\r\n",
        b"HTTP/1.1 101 x\r\n",
        b"HTTP/1.1 100 x\r\n\r\n",
        b" fold\r\n",
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..300 {
        let mut a = HttpAssembler::new(HttpConfig {
            header_cap: 256,
            max_headers: 4,
            ..HttpConfig::default()
        });
        for f in 0..40 {
            let r = next();
            let dir = if r & 1 == 0 { Dir::Client } else { Dir::Server };
            let mut data = Vec::new();
            for _ in 0..(r >> 8) % 6 {
                let r2 = next();
                if r2 % 3 == 0 {
                    data.extend((0..r2 % 20).map(|i| (r2 >> (i % 56)) as u8));
                } else {
                    data.extend_from_slice(frags[(r2 % frags.len() as u64) as usize]);
                }
            }
            match (r >> 4) % 16 {
                0 => a.gap(dir, r >> 40),
                1 => a.fin(dir, f, Ts(0)),
                _ => a.push(dir, &data, f, Ts(f as i64)),
            }
        }
        a.finish();
        let _ = a.take_new_events();
    }
}

/// The text report's app names are the JSON ones.
#[test]
fn app_names_are_the_json_names() {
    use crate::http::AppProto::*;
    for a in [Http, Tls, Ssh, Smtp, Ftp, FtpData, Unknown] {
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            format!("\"{}\"", a.name())
        );
    }
}

/// A start line near the size limit arriving one byte at a time: parsed the same as in
/// one piece, and in linear time (each byte used to rescan the line from its start:
/// ~2 billion byte checks for this one).
#[test]
fn long_start_line_bytewise_is_linear_and_equal() {
    let uri = format!("/{}", "a".repeat(60_000));
    let req = format!("GET {uri} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes();
    let steps = [c(&req), s(b"HTTP/1.1 204 No Content\r\n\r\n")];
    let whole = run(&steps);
    let t0 = std::time::Instant::now();
    let bytewise = run_with(HttpConfig::default(), &steps, |_, b| {
        b.iter().map(|x| vec![*x]).collect()
    });
    let took = t0.elapsed();
    assert_eq!(snapshot(&bytewise), snapshot(&whole));
    assert_eq!(whole.exchanges().len(), 1);
    assert_eq!(
        whole.exchanges()[0].request.as_ref().map(|r| r.uri.len()),
        Some(uri.len())
    );
    assert!(took.as_millis() < 2_000, "{took:?}");
}

/// One note per gap would grow without end on a long lossy download: the list stops at
/// 16 notes and says more were left out, once; repeats are still kept once.
#[test]
fn anomaly_notes_are_bounded() {
    let mut x = Exchange::default();
    x.note(Anomaly::Gap { len: 1 });
    x.note(Anomaly::Gap { len: 1 });
    assert_eq!(x.anomalies.len(), 1);
    for k in 0..10_000 {
        x.note(Anomaly::Gap { len: k });
    }
    assert_eq!(x.anomalies.len(), 17);
    assert_eq!(
        x.anomalies.last().map(Anomaly::to_string).as_deref(),
        Some("more anomalies not listed")
    );
}

fn get(i: usize) -> Vec<u8> {
    format!("GET /r/{i} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes()
}

fn resp(i: usize) -> (Vec<u8>, Vec<u8>) {
    let body = format!("body-{i}").into_bytes();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"{i}\"\r\n\r\n",
        body.len()
    )
    .into_bytes();
    (head, body)
}

fn etag_of(x: &Exchange) -> Option<&str> {
    x.response
        .as_ref()
        .and_then(|r| header(&r.headers, "etag"))
        .map(|v| v.trim_matches('"'))
}

fn uri_of(x: &Exchange) -> Option<&str> {
    x.request.as_ref().map(|r| r.uri.as_str())
}

/// Keep-alive, response 5's head never captured and its body (no line end) delivered: the
/// body is skipped, exchange 5 has no response and says why, 6..8 are their own.
#[test]
fn lost_response_head_resyncs_mid_line() {
    let mut a = HttpAssembler::new(HttpConfig::default());
    let mut s_off = 0u64;
    let mut frame = 0;
    for i in 1..=8 {
        frame += 1;
        let q = get(i);
        a.push(Dir::Client, &q, frame, Ts(frame as i64));
        let (h, b) = resp(i);
        frame += 1;
        if i == 5 {
            a.gap_at(Dir::Server, s_off, h.len() as u64);
        } else {
            a.push(Dir::Server, &h, frame, Ts(frame as i64));
        }
        frame += 1;
        a.push(Dir::Server, &b, frame, Ts(frame as i64));
        s_off += (h.len() + b.len()) as u64;
    }
    a.finish();
    let ex = a.exchanges();
    assert_eq!(ex.len(), 8);
    for (k, x) in ex.iter().enumerate() {
        let i = k + 1;
        assert_eq!(uri_of(x), Some(format!("/r/{i}").as_str()));
        if i == 5 {
            assert!(x.response.is_none());
            // Response 5 starts after 4 responses of 55 bytes (head 49 + body 6).
            assert_eq!(
                texts(&x.anomalies),
                vec!["response head lost in a capture gap of 49 bytes at rel seq 221".to_string()]
            );
        } else {
            assert_eq!(etag_of(x), Some(i.to_string().as_str()));
            assert!(x.complete && x.anomalies.is_empty(), "{x:#?}");
        }
    }
    assert_eq!(a.unparsed_bytes(Dir::Server), 6);
    assert_eq!(
        texts(a.anomalies()),
        ["gap of 49 bytes in server stream between messages"]
    );
}

/// Request 2's head lost in a client gap, whether the gap is reported before its response
/// arrives or after (the TCP engine reports it when the server's ACK shows it was sent):
/// the response gets a request-less exchange, request 3 its own response.
#[test]
fn lost_request_head_before_or_after_its_response() {
    for gap_first in [true, false] {
        let mut a = HttpAssembler::new(HttpConfig::default());
        let q2 = get(2);
        let q1 = get(1);
        a.push(Dir::Client, &q1, 1, Ts(1));
        let (h, b) = resp(1);
        a.push(Dir::Server, &[h, b].concat(), 2, Ts(2));
        if gap_first {
            a.gap_at(Dir::Client, q1.len() as u64, q2.len() as u64);
        }
        let (h, b) = resp(2);
        a.push(Dir::Server, &[h, b].concat(), 4, Ts(4));
        if !gap_first {
            a.gap_at(Dir::Client, q1.len() as u64, q2.len() as u64);
        }
        a.push(Dir::Client, &get(3), 5, Ts(5));
        let (h, b) = resp(3);
        a.push(Dir::Server, &[h, b].concat(), 6, Ts(6));
        a.finish();
        let ex = a.exchanges();
        assert_eq!(ex.len(), 3, "gap first {gap_first}: {ex:#?}");
        assert_eq!((uri_of(&ex[0]), etag_of(&ex[0])), (Some("/r/1"), Some("1")));
        assert_eq!((uri_of(&ex[1]), etag_of(&ex[1])), (None, Some("2")));
        assert_eq!(
            texts(&ex[1].anomalies),
            vec!["request head lost in a capture gap of 30 bytes at rel seq 31".to_string()]
        );
        assert_eq!((uri_of(&ex[2]), etag_of(&ex[2])), (Some("/r/3"), Some("3")));
        assert!(ex[0].complete && ex[2].complete && !ex[1].complete);
        assert!(ex[2].anomalies.is_empty(), "{:?}", ex[2].anomalies);
    }
}

/// A gap running past the end of a Content-Length body: the body's missing bytes are
/// exact, and the bytes after it held response 2's head, so request 2 is unanswered and
/// response 3 pairs with request 3.
#[test]
fn gap_past_a_known_length_loses_the_next_head() {
    let mut a = HttpAssembler::new(HttpConfig::default());
    a.push(Dir::Client, &[get(1), get(2), get(3)].concat(), 1, Ts(1));
    let r1 = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123".to_vec();
    a.push(Dir::Server, &r1, 2, Ts(2));
    let (h2, b2) = resp(2);
    let lost = 6 + (h2.len() + b2.len()) as u64;
    a.gap_at(Dir::Server, r1.len() as u64, lost);
    let (h3, b3) = resp(3);
    a.push(Dir::Server, &[h3, b3].concat(), 4, Ts(4));
    a.finish();
    let ex = a.exchanges();
    assert_eq!(ex.len(), 3);
    let r = ex[0].response.as_ref().expect("response 1");
    assert_eq!(
        (
            r.body_bytes,
            r.body_bytes_decoded,
            r.body_bytes_missing,
            r.body_bytes_announced,
            r.complete
        ),
        (4, 4, Some(6), Some(10), false)
    );
    assert!(ex[1].response.is_none());
    assert_eq!(
        texts(&ex[1].anomalies),
        vec![format!(
            "response head lost in a capture gap of {lost} bytes at rel seq {}",
            r1.len() + 1
        )]
    );
    assert_eq!((uri_of(&ex[2]), etag_of(&ex[2])), (Some("/r/3"), Some("3")));
    assert!(ex[2].complete && !ex[2].pairing_uncertain);
}

/// A gap inside a chunked body loses the framing: the body's missing count is unknown
/// (None), and the next head is found by scanning, even mid-line.
#[test]
fn gap_in_chunked_body_resyncs_by_scanning() {
    let mut a = HttpAssembler::new(HttpConfig::default());
    a.push(Dir::Client, &[get(1), get(2)].concat(), 1, Ts(1));
    a.push(
        Dir::Server,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123",
        2,
        Ts(2),
    );
    a.gap_at(Dir::Server, 56, 9);
    let (h2, b2) = resp(2);
    a.push(
        Dir::Server,
        &[b"ef\r\n0\r\n\r\n".to_vec(), h2, b2].concat(),
        3,
        Ts(3),
    );
    a.finish();
    let ex = a.exchanges();
    assert_eq!(ex.len(), 2);
    let r = ex[0].response.as_ref().expect("response 1");
    assert_eq!(
        (r.body_bytes, r.body_bytes_missing, r.body_bytes_announced),
        (4, None, None)
    );
    assert_eq!(texts(&ex[0].anomalies), vec!["gap of 9 bytes".to_string()]);
    assert_eq!((uri_of(&ex[1]), etag_of(&ex[1])), (Some("/r/2"), Some("2")));
    assert!(ex[1].complete && ex[1].anomalies.is_empty());
    assert_eq!(a.unparsed_bytes(Dir::Server), 9);
}

/// CONNECT with an extra token, answered 200 with the tunnel's first bytes in the same
/// segment: a tunnel, TLS inside, nothing counted as a body.
#[test]
fn connect_tunnel_detects_what_runs_inside() {
    let mut a = HttpAssembler::new(HttpConfig::default());
    a.push(
        Dir::Client,
        b"CONNECT secure.example:443 x HTTP/1.1\r\nHost: secure.example:443\r\n\r\n",
        1,
        Ts(1),
    );
    a.push(
        Dir::Server,
        b"HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03\x00\x02ab",
        2,
        Ts(2),
    );
    a.push(Dir::Client, b"\x16\x03\x01\x00\x01z", 3, Ts(3));
    a.finish();
    let ex = a.exchanges();
    assert_eq!(ex.len(), 1);
    let t = ex[0].tunnel.as_ref().expect("tunnel");
    assert_eq!(
        (
            t.kind,
            t.target.as_str(),
            t.app,
            t.frame,
            t.client_bytes,
            t.server_bytes
        ),
        ("connect", "secure.example:443", AppProto::Tls, 2, 6, 7)
    );
    let r = ex[0].response.as_ref().expect("response");
    assert_eq!((r.status, r.body_bytes), (200, 0));
    assert_eq!(
        texts(&ex[0].anomalies),
        vec![
            "extra tokens in request line before the version: \"x\"".to_string(),
            "tunnel".to_string()
        ]
    );
    assert_eq!(a.app(), AppProto::Http);
}

/// The client stream held behind a hole delivers request 2 after response 2 (no gap in
/// the end: the hole was filled): the request sent before the response began takes it.
#[test]
fn late_delivered_request_adopts_its_response() {
    let mut a = HttpAssembler::new(HttpConfig::default());
    a.push(Dir::Client, &get(1), 1, Ts(1));
    let (h, b) = resp(1);
    a.push(Dir::Server, &[h, b].concat(), 2, Ts(2));
    let (h, b) = resp(2);
    a.push(Dir::Server, &[h, b].concat(), 4, Ts(4));
    // Sent in frame 3, delivered only now.
    a.push(Dir::Client, &get(2), 3, Ts(3));
    a.push(Dir::Client, &get(3), 5, Ts(5));
    let (h, b) = resp(3);
    a.push(Dir::Server, &[h, b].concat(), 6, Ts(6));
    a.finish();
    let ex = a.exchanges();
    assert_eq!(ex.len(), 3, "{ex:#?}");
    for (k, x) in ex.iter().enumerate() {
        let i = (k + 1).to_string();
        assert_eq!(uri_of(x), Some(format!("/r/{i}").as_str()));
        assert_eq!(etag_of(x), Some(i.as_str()));
        assert!(x.complete && x.anomalies.is_empty(), "{x:#?}");
    }
    // From the request's last byte (ts 3 ns) to the response's first (ts 4 ns).
    assert_eq!(ex[1].ttfb_ms, Some(1e-6));
}

/// A response arriving before any request was sent (capture started late, or an
/// unsolicited 408) is not given to the request that follows it.
#[test]
fn response_before_the_request_is_not_its_answer() {
    let mut a = HttpAssembler::new(HttpConfig::default());
    a.push(
        Dir::Server,
        b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n",
        1,
        Ts(1),
    );
    a.push(Dir::Client, &get(1), 2, Ts(2));
    let (h, b) = resp(1);
    a.push(Dir::Server, &[h, b].concat(), 3, Ts(3));
    a.finish();
    let ex = a.exchanges();
    assert_eq!(ex.len(), 2);
    assert_eq!(
        (uri_of(&ex[0]), ex[0].response.as_ref().map(|r| r.status)),
        (None, Some(408))
    );
    assert_eq!((uri_of(&ex[1]), etag_of(&ex[1])), (Some("/r/1"), Some("1")));
}

fn pipelined_with_lost_head(
    n: usize,
    lost: usize,
    delivered: usize,
    server_fin: bool,
) -> HttpAssembler {
    let mut a = HttpAssembler::new(HttpConfig::default());
    let all: Vec<u8> = (1..=n).flat_map(get).collect();
    a.push(Dir::Client, &all, 1, Ts(1));
    let mut off = 0u64;
    for i in 1..=delivered {
        let (h, b) = resp(i);
        let len = (h.len() + b.len()) as u64;
        if i == lost {
            a.gap_at(Dir::Server, off, len);
        } else {
            a.push(
                Dir::Server,
                &[h, b].concat(),
                1 + i as u64,
                Ts(1 + i as i64),
            );
        }
        off += len;
    }
    if server_fin {
        a.fin(Dir::Server, 100, Ts(100));
    }
    a.finish();
    a
}

/// Pipelined, response 3's head lost: the estimate (one response in the gap) is
/// confirmed by the end when every later request is answered; with the capture cut short
/// (no server FIN, the last request unanswered) it stays marked, and nothing is moved.
#[test]
fn estimated_pairing_confirmed_or_left_marked() {
    let a = pipelined_with_lost_head(6, 3, 6, true);
    let ex = a.exchanges();
    assert_eq!(ex.len(), 6);
    for (k, x) in ex.iter().enumerate() {
        let i = k + 1;
        assert_eq!(uri_of(x), Some(format!("/r/{i}").as_str()));
        assert!(!x.pairing_uncertain, "{x:#?}");
        if i == 3 {
            assert!(x.response.is_none());
            assert_eq!(
                texts(&x.anomalies),
                vec!["response head lost in a capture gap of 55 bytes at rel seq 111".to_string()]
            );
        } else {
            assert_eq!(etag_of(x), Some(i.to_string().as_str()));
            assert!(x.anomalies.is_empty(), "{x:#?}");
        }
    }
    let a = pipelined_with_lost_head(6, 3, 5, false);
    let ex = a.exchanges();
    let marks: Vec<bool> = ex.iter().map(|x| x.pairing_uncertain).collect();
    assert_eq!(marks, [false, false, true, true, true, false]);
    let tags: Vec<Option<&str>> = ex.iter().map(etag_of).collect();
    assert_eq!(
        tags,
        [Some("1"), Some("2"), None, Some("4"), Some("5"), None]
    );
}
