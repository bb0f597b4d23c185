//! A capture that begins inside a connection, in the middle of a response body: the bytes
//! before the first captured head belong to a message whose head was never captured, and
//! its last byte need not end a line. The first response found must be the one that starts
//! right after those bytes, wherever it starts, so that each request keeps its own answer.

mod common;

use common::pcapgen::{Cap, report};
use serde_json::Value;

const C: bool = true;
const S: bool = false;

/// The tail of a binary body: line ends inside (some doubled, some CR LF), none at the end.
fn body_tail(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| match i % 97 {
            13 | 14 | 41 => b'\n',
            40 => b'\r',
            _ => (i * 31 % 251) as u8 | 0x80,
        })
        .collect()
}

/// An exchange as the tests compare it: (uri, status, response head frame, body bytes).
type Row = (String, Option<u64>, Option<u64>, Option<u64>);

/// Every exchange of the first connection.
fn exchanges(v: &Value) -> Vec<Row> {
    v["connections"][0]["http"]
        .as_array()
        .expect("http exchanges")
        .iter()
        .map(|x| {
            let r = &x["response"];
            (
                x["request"]["uri"].as_str().unwrap_or("").to_string(),
                r["status"].as_u64(),
                r["frame"].as_u64(),
                r["body_bytes_wire"].as_u64(),
            )
        })
        .collect()
}

/// The notes on exchange `i`.
fn notes(v: &Value, i: usize) -> Vec<String> {
    v["connections"][0]["http"][i]["anomalies"]
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// What the first exchange says about the bytes skipped before its response.
fn skipped(n: u64) -> String {
    format!(
        "the server's first {n} bytes, before this response, were skipped: the capture began inside an earlier response whose head it never saw (or they are not HTTP)"
    )
}

/// Server bytes first (the end of a download), then two requests and their responses; the
/// first response head follows the body's last byte, which is not a line end.
fn capture(tail: &[u8], tail_segments: usize, first_head: &[u8]) -> Cap {
    let mut c = Cap::new();
    let (mut s, cl) = (70_000u32, 9_000u32);
    let per = tail.len().div_ceil(tail_segments);
    let mut t = 0;
    for part in tail.chunks(per) {
        c.seg(t, S, "A", s, cl, part);
        s += part.len() as u32;
        t += 100;
    }
    let r1 = b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    c.seg(t, C, "PA", cl, s, r1);
    let cl = cl + r1.len() as u32;
    c.seg(t + 100, S, "PA", s, cl, first_head);
    s += first_head.len() as u32;
    let r2 = b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
    c.seg(t + 200, C, "PA", cl, s, r2);
    let cl = cl + r2.len() as u32;
    let second = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    c.seg(t + 300, S, "PA", s, cl, second);
    c
}

#[test]
fn a_head_right_after_a_binary_body_tail_answers_the_first_request() {
    let tail = body_tail(3000);
    // The first response head begins in the same segment as the body's last bytes.
    let mut joined = tail[tail.len() - 500..].to_vec();
    joined.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    let c = capture(&tail[..tail.len() - 500], 2, &joined);
    let v = report(&c.write("midstream-binary-tail"));
    assert_eq!(
        exchanges(&v),
        [
            ("/b".into(), Some(200), Some(4), Some(5)),
            ("/c".into(), Some(404), Some(6), Some(0)),
        ]
    );
    assert_eq!(notes(&v, 0), [skipped(3000)]);
    assert!(notes(&v, 1).is_empty());
}

#[test]
fn a_head_starting_a_segment_after_a_binary_body_tail_answers_the_first_request() {
    let tail = body_tail(2900);
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    let c = capture(&tail, 2, head);
    let v = report(&c.write("midstream-segment-start"));
    assert_eq!(
        exchanges(&v),
        [
            ("/b".into(), Some(200), Some(4), Some(5)),
            ("/c".into(), Some(404), Some(6), Some(0)),
        ]
    );
    assert_eq!(notes(&v, 0), [skipped(2900)]);
}

#[test]
fn a_request_seen_before_the_body_tail_keeps_the_response_after_it() {
    // The request comes first in the capture, then the end of the previous response (its
    // request and head were before the capture), then this request's own response.
    let mut c = Cap::new();
    let (cl, mut s) = (9_000u32, 70_000u32);
    let r1 = b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    c.seg(0, C, "PA", cl, s, r1);
    let cl = cl + r1.len() as u32;
    let mut bytes = body_tail(1400);
    bytes.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    c.seg(100, S, "PA", s, cl, &bytes);
    s += bytes.len() as u32;
    let r2 = b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
    c.seg(200, C, "PA", cl, s, r2);
    let cl = cl + r2.len() as u32;
    c.seg(
        300,
        S,
        "PA",
        s,
        cl,
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    );
    let v = report(&c.write("midstream-request-first"));
    assert_eq!(
        exchanges(&v),
        [
            ("/b".into(), Some(200), Some(2), Some(5)),
            ("/c".into(), Some(404), Some(4), Some(0)),
        ]
    );
    assert_eq!(notes(&v, 0), [skipped(1400)]);
}

/// Not HTTP at all (a database's result rows): a status line quoted inside a line of
/// another protocol's bytes does not make the connection HTTP.
#[test]
fn a_status_line_quoted_mid_line_in_another_protocol_is_not_http() {
    let mut c = Cap::new();
    c.server_port = 5432;
    c.seg(
        0,
        C,
        "PA",
        9_000,
        70_000,
        b"\x00\x00\x00\x08\x04\xd2\x16\x2f",
    );
    let rows = b"row 1: the text says HTTP/1.1 200 OK\r\nand more\r\n";
    c.seg(100, S, "PA", 70_000, 9_008, rows);
    let v = report(&c.write("midstream-other-protocol"));
    assert_eq!(v["connections"][0]["app"], "unknown");
    assert!(
        v["connections"][0]["http"]
            .as_array()
            .is_none_or(|a| a.is_empty())
    );
}

/// The capture begins inside a 5 MB upload: until its body ends only its bytes are seen
/// (more than a small detection budget would scan), then the server answers it and the
/// client's next request starts right after the body's last byte, mid-line.
#[test]
fn a_capture_that_begins_inside_a_large_upload_finds_the_next_request() {
    let mut c = Cap::new();
    c.server_port = 8080;
    let (mut cl, s) = (9_000u32, 70_000u32);
    let tail = body_tail(5_000_000);
    for (i, part) in tail.chunks(1448).enumerate() {
        c.seg(i as i64 * 10, C, "A", cl, s, part);
        cl = cl.wrapping_add(part.len() as u32);
    }
    let t = 100_000;
    let first = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    c.seg(t, S, "PA", s, cl, first);
    let s = s + first.len() as u32;
    let r2 = b"POST /up2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    c.seg(t + 100, C, "PA", cl, s, r2);
    let cl = cl + r2.len() as u32;
    c.seg(
        t + 200,
        S,
        "PA",
        s,
        cl,
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nk2",
    );
    let v = report(&c.write("midstream-upload"));
    let n = tail.len() / 1448 + 1;
    let (r1, q2, r2f) = (n as u64 + 1, n as u64 + 2, n as u64 + 3);
    assert_eq!(v["connections"][0]["app"], "http");
    assert_eq!(
        exchanges(&v),
        [
            // The upload's own request was before the capture: its answer has no request.
            (String::new(), Some(201), Some(r1), Some(2)),
            ("/up2".into(), Some(201), Some(r2f), Some(2)),
        ]
    );
    assert_eq!(v["connections"][0]["http"][1]["request"]["frame"], q2);
    assert_eq!(
        notes(&v, 1),
        [
            "the client's first 5000000 bytes, before this request, were skipped: the capture began inside an earlier request whose head it never saw (or they are not HTTP)"
        ]
    );
}
