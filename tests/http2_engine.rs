//! The HTTP/2 engine on captures built here (issue 16): what a reassembly gap does to the
//! framing and to HPACK, server push as its own exchange, and the bad-input caps not
//! covered in tests/http2.rs (a SETTINGS_MAX_FRAME_SIZE lie, a header list decoding to
//! megabytes, a huge DATA frame allowed by the peer). Every number asserted is the one
//! the built capture implies.

mod common;

use common::pcapgen::Cap;
use serde_json::Value;
use tcpscope::headless;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut v = len.to_be_bytes()[1..].to_vec();
    v.push(ty);
    v.push(flags);
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// HPACK literal with incremental indexing, new name (RFC 7541 §6.2.1), short strings.
fn lit_inc(name: &str, value: &[u8]) -> Vec<u8> {
    let mut v = vec![0x40];
    v.extend(string(name.as_bytes()));
    v.extend(string(value));
    v
}

/// An HPACK string literal, not Huffman coded (7-bit prefix length).
fn string(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let n = s.len();
    if n < 127 {
        v.push(n as u8);
    } else {
        v.push(0x7f);
        let mut rest = n - 127;
        while rest >= 128 {
            v.push((rest % 128) as u8 | 0x80);
            rest /= 128;
        }
        v.push(rest as u8);
    }
    v.extend_from_slice(s);
    v
}

/// :method GET, :scheme http, then :path as a literal without indexing (name index 4).
fn get(path: &str) -> Vec<u8> {
    let mut v = vec![0x82, 0x86, 0x04];
    v.extend(string(path.as_bytes()));
    v
}

fn client_hello() -> Vec<u8> {
    let mut v = PREFACE.to_vec();
    v.extend(frame(4, 0, 0, &[]));
    v
}

/// One h2c connection: handshake, then each chunk (from_client, bytes) in segments of at
/// most 1400 bytes, each chunk followed by the other side's ACK; `lose` names chunks never
/// captured. Returns the capture and, per chunk, the frame number of its first segment
/// (None when lost).
fn h2_capture(
    name: &str,
    chunks: &[(bool, Vec<u8>)],
    lose: &[usize],
) -> (std::path::PathBuf, Vec<Option<u64>>) {
    let mut c = Cap::new();
    c.server_port = 8080;
    let (mut cs, mut ss) = (1000u32, 5000u32);
    c.seg(0, true, "S", cs - 1, 0, &[]);
    c.seg(10, false, "SA", ss - 1, cs, &[]);
    c.seg(20, true, "A", cs, ss, &[]);
    let mut written = 3u64;
    let mut firsts = Vec::new();
    let mut t = 100;
    for (i, (from_client, bytes)) in chunks.iter().enumerate() {
        let lost = lose.contains(&i);
        firsts.push((!lost).then_some(written + 1));
        for seg in bytes.chunks(1400) {
            let (seq, ack) = if *from_client { (cs, ss) } else { (ss, cs) };
            if lost {
                c.lost(*from_client, "PA", seq, ack, seg);
            } else {
                c.seg(t, *from_client, "PA", seq, ack, seg);
                written += 1;
            }
            if *from_client {
                cs += seg.len() as u32;
            } else {
                ss += seg.len() as u32;
            }
            t += 10;
        }
        let (seq, ack) = if *from_client { (ss, cs) } else { (cs, ss) };
        c.seg(t, !*from_client, "A", seq, ack, &[]);
        written += 1;
        t += 10;
    }
    (c.write(name), firsts)
}

fn only(path: &std::path::Path) -> Value {
    let (_, cs) = headless::run_path(path).unwrap();
    assert_eq!(cs.len(), 1);
    serde_json::to_value(&cs[0]).unwrap()
}

fn anomalies(v: &Value) -> String {
    v["anomalies"].to_string()
}

fn exchange(c: &Value, stream: u64) -> &Value {
    c["http"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["stream_id"] == stream)
        .unwrap_or_else(|| panic!("no stream {stream}: {}", c["http"]))
}

// ---- gaps ----

/// A gap inside a HEADERS frame of known length keeps the framing, but the block's
/// lost bytes may have changed the dynamic table: the direction's later blocks are
/// undecodable (counted in hpack_failures), never decoded against a wrong table. The
/// other direction's table is untouched.
#[test]
fn gap_inside_headers_poisons_later_blocks_of_that_direction_only() {
    let mut cli = client_hello();
    let mut b1 = get("/one");
    b1.extend(lit_inc("x-first", b"kept"));
    cli.extend(frame(1, 0x5, 1, &b1));
    // Stream 3: a 4,000-byte header value; its middle segment is never captured.
    let mut b3 = get("/three");
    b3.extend(lit_inc("x-big", &[b'z'; 4000]));
    let h3 = frame(1, 0x5, 3, &b3);
    let (h3a, rest) = h3.split_at(1400);
    let (h3b, h3c) = rest.split_at(1400);
    // Stream 5 refers to dynamic index 62: x-big if the table were known.
    let mut b5 = get("/five");
    b5.push(0xbe);
    let mut srv = frame(4, 0, 0, &[]);
    srv.extend(frame(4, 1, 0, &[]));
    for s in [1, 3, 5] {
        srv.extend(frame(1, 0x5, s, &[0x88]));
    }
    let chunks = vec![
        (true, cli),
        (true, h3a.to_vec()),
        (true, h3b.to_vec()),
        (true, h3c.to_vec()),
        (true, frame(1, 0x5, 5, &b5)),
        (false, srv),
    ];
    let (path, _) = h2_capture("h2e-gap-in-headers", &chunks, &[2]);
    let c = only(&path);
    let h2 = &c["http2"];
    assert_eq!(h2["frames"]["client"]["HEADERS"], 3, "framing kept");
    assert_eq!(h2["unparsed_bytes"]["client"], 0);
    assert!(h2.get("unparsed_after_gap").is_none(), "{h2}");
    assert_eq!(h2["hpack_failures"], 1, "stream 5's block only");
    let a = anomalies(h2);
    assert!(
        a.contains(
            "HTTP/2 client header block undecodable: an earlier loss left the HPACK table unknown"
        ),
        "{a}"
    );
    let s1 = exchange(&c, 1);
    assert_eq!(s1["request"]["uri"], "/one");
    assert_eq!(s1["end_state"], "complete");
    let s3 = exchange(&c, 3);
    assert!(
        anomalies(s3).contains("HTTP/2 client header block lost"),
        "{s3}"
    );
    assert_ne!(s3["end_state"], "complete");
    let s5 = exchange(&c, 5);
    assert_eq!(
        s5["request"]["uri"], "",
        "not decoded against a wrong table"
    );
    assert_eq!(s5["request"]["headers"].as_array().map(Vec::len), Some(0));
    assert_ne!(s5["end_state"], "complete");
    // The server's blocks are decoded: its table is its own.
    for s in [1, 3, 5] {
        assert_eq!(exchange(&c, s)["response"]["status"], 200);
    }
}

/// A gap that takes a frame boundary with it: the direction's remaining bytes are counted
/// as unparsed where the gap was, its open streams end incomplete, nothing after it is
/// read as frames (the DATA after the gap is not counted), the other direction goes on.
#[test]
fn gap_over_a_frame_boundary_marks_the_rest_unparsed() {
    let mut srv = frame(4, 0, 0, &[]);
    srv.extend(frame(4, 1, 0, &[]));
    srv.extend(frame(1, 0x4, 1, &[0x88]));
    srv.extend(frame(1, 0x4, 3, &[0x88]));
    let d1 = frame(0, 0, 1, &[1u8; 1000]);
    let d3 = frame(0, 0, 3, &[3u8; 1000]);
    // Chunk 2: the first DATA but its last 100 bytes; chunk 3 (lost): those 100 bytes and
    // the second DATA's first 300; chunk 4: the rest, then two more frames.
    let (d1a, d1b) = d1.split_at(909);
    let (d3a, d3b) = d3.split_at(300);
    let lost: Vec<u8> = [d1b, d3a].concat();
    let mut tail = d3b.to_vec();
    tail.extend(frame(0, 1, 1, b"end of one"));
    tail.extend(frame(0, 1, 3, b"end of three"));
    let mut cli = client_hello();
    cli.extend(frame(4, 1, 0, &[]));
    cli.extend(frame(1, 0x5, 1, &get("/one")));
    cli.extend(frame(1, 0x5, 3, &get("/three")));
    let chunks = vec![
        (true, cli),
        (false, srv),
        (false, d1a.to_vec()),
        (false, lost.clone()),
        (false, tail.clone()),
        (true, frame(6, 0, 0, b"12345678")),
    ];
    let (path, firsts) = h2_capture("h2e-gap-over-boundary", &chunks, &[3]);
    let c = only(&path);
    let h2 = &c["http2"];
    let lost_at = &h2["unparsed_after_gap"]["server"];
    assert_eq!(lost_at["gap"], lost.len() as u64, "{h2}");
    assert_eq!(lost_at["frame"], firsts[4].unwrap());
    assert_eq!(lost_at["bytes"], tail.len() as u64);
    assert_eq!(lost_at["later_gaps"], 0);
    // SETTINGS, SETTINGS ACK, two HEADERS; the DATA in progress is not complete.
    assert_eq!(lost_at["frames_before"], 4);
    assert_eq!(lost_at["streams_open"], 2);
    assert!(h2["unparsed_after_gap"].get("client").is_none());
    assert_eq!(h2["unparsed_bytes"]["server"], tail.len() as u64);
    assert_eq!(
        h2["frames"]["server"]["DATA"], 1,
        "nothing read after the gap"
    );
    assert_eq!(h2["frames"]["client"]["PING"], 1, "the client side goes on");
    let a = anomalies(h2);
    assert!(
        a.contains(&format!(
            "HTTP/2 server framing lost in a gap of {} bytes: the rest is not parsed",
            lost.len()
        )),
        "{a}"
    );
    for s in [1, 3] {
        let e = exchange(&c, s);
        assert_eq!(e["end_state"], "incomplete", "{e}");
        assert!(
            anomalies(e).contains("HTTP/2 server framing lost in a gap of 400 bytes"),
            "{e}"
        );
        assert_eq!(e["response"]["status"], 200);
        assert_eq!(e["response"]["body_sha256"], Value::Null);
        assert_eq!(e["request"]["complete"], true);
    }
}

// ---- server push ----

/// A PUSH_PROMISE on stream 1 promising stream 2: the push is its own exchange, its
/// request the promise's header block, tied to the promise (stream and frame), listed in
/// stream id order; the promised stream's response and body come on stream 2.
#[test]
fn server_push_is_its_own_exchange_tied_to_its_promise() {
    let mut cli = client_hello();
    cli.extend(frame(1, 0x5, 1, &get("/index.html")));
    let mut srv = frame(4, 0, 0, &[]);
    srv.extend(frame(4, 1, 0, &[]));
    let mut promise = vec![0, 0, 0, 2];
    promise.extend(get("/style.css"));
    let push = frame(5, 0x4, 1, &promise);
    let mut resp1 = frame(1, 0x4, 1, &[0x88]);
    resp1.extend(frame(0, 1, 1, b"<html>see style.css</html>"));
    let mut resp2 = frame(1, 0x4, 2, &[0x88]);
    resp2.extend(frame(0, 1, 2, b"body { color: red }"));
    let chunks = vec![
        (true, cli),
        (false, srv),
        (false, push),
        (false, resp2),
        (false, resp1),
    ];
    let (path, firsts) = h2_capture("h2e-push", &chunks, &[]);
    let c = only(&path);
    let ids: Vec<u64> = c["http"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["stream_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 2], "stream id order");
    let p = exchange(&c, 2);
    assert_eq!(p["promised_on"], 1);
    assert_eq!(p["promise_frame"], firsts[2].unwrap());
    assert_eq!(p["request"]["method"], "GET");
    assert_eq!(p["request"]["uri"], "/style.css");
    assert_eq!(p["request"]["frame"], firsts[2].unwrap());
    assert_eq!(p["response"]["status"], 200);
    assert_eq!(p["response"]["frame"], firsts[3].unwrap());
    assert_eq!(p["response"]["body_bytes_wire"], 19);
    assert_eq!(p["end_state"], "complete");
    let s1 = exchange(&c, 1);
    assert_eq!(s1["request"]["uri"], "/index.html");
    assert!(s1.get("promised_on").is_none());
    assert_eq!(s1["response"]["body_bytes_wire"], 26);
    assert_eq!(s1["end_state"], "complete");
    assert_eq!(c["http2"]["frames"]["server"]["PUSH_PROMISE"], 1);
    assert_eq!(c["http2"]["streams"], 2);
}

// ---- bad input ----

/// SETTINGS_MAX_FRAME_SIZE outside 16,384..16,777,215 is a PROTOCOL_ERROR: noted and
/// not believed, so a frame over the real limit is still noted; a frame the peer did
/// allow (2 MB of DATA after 16,777,215) is streamed, not buffered, and read whole.
#[test]
fn max_frame_size_lie_is_not_believed_and_big_allowed_data_is_streamed() {
    let mut cli = client_hello();
    // The client says it accepts frames of 2^32-1 bytes (impossible: 24-bit lengths).
    cli.extend(frame(4, 0, 0, &[0, 5, 0xff, 0xff, 0xff, 0xff]));
    cli.extend(frame(1, 0x5, 1, &get("/a")));
    // The server says 16,777,215 (legal): the client may send big frames to it.
    let mut srv = frame(4, 0, 0, &[0, 5, 0, 0xff, 0xff, 0xff]);
    srv.extend(frame(4, 1, 0, &[]));
    srv.extend(frame(1, 0x4, 1, &[0x88]));
    srv.extend(frame(0, 1, 1, &[9u8; 20_000]));
    let mut post = frame(1, 0x4, 3, &[0x83, 0x86, 0x84]);
    post.extend(frame(0, 1, 3, &vec![5u8; 2_000_000]));
    let chunks = vec![(true, cli), (false, srv), (true, post)];
    let (path, _) = h2_capture("h2e-max-frame-lie", &chunks, &[]);
    let c = only(&path);
    let a = anomalies(&c["http2"]);
    assert!(
        a.contains(
            "HTTP/2 client protocol error: SETTINGS_MAX_FRAME_SIZE outside 16384..16777215: ignored"
        ),
        "{a}"
    );
    assert!(
        a.contains("HTTP/2 server frame of 20000 bytes exceeds SETTINGS_MAX_FRAME_SIZE 16384"),
        "{a}"
    );
    assert!(!a.contains("client frame of"), "{a}");
    assert_eq!(
        c["http2"]["settings"]["client"]["SETTINGS_MAX_FRAME_SIZE"],
        4_294_967_295u64
    );
    let s3 = exchange(&c, 3);
    assert_eq!(s3["request"]["body_bytes"], 2_000_000, "{s3}");
    assert_eq!(s3["request"]["method"], "POST");
    assert_eq!(exchange(&c, 1)["response"]["body_bytes_wire"], 20_000);
}

/// An HPACK bomb: one 4,000-byte value put in the dynamic table, then referenced 16,000
/// times in one 16 kB block (64 MB decoded). The list is cut at the 64 KiB cap with a
/// note; the process stays small (GNU time's maximum resident set, when installed).
#[test]
fn header_list_decoding_to_megabytes_is_cut_in_bounded_memory() {
    let mut bomb = get("/bomb");
    bomb.extend(lit_inc("x-bomb", &[b'b'; 4000]));
    bomb.extend(std::iter::repeat_n(0xbe, 16_000));
    let mut cli = client_hello();
    cli.extend(frame(1, 0x5, 1, &bomb));
    cli.extend(frame(1, 0x5, 3, &get("/after")));
    let mut srv = frame(4, 0, 0, &[]);
    srv.extend(frame(1, 0x5, 1, &[0x88]));
    srv.extend(frame(1, 0x5, 3, &[0x88]));
    let (path, _) = h2_capture("h2e-hpack-bomb", &[(true, cli), (false, srv)], &[]);
    let c = only(&path);
    let s1 = exchange(&c, 1);
    assert!(
        anomalies(s1).contains(
            "HTTP/2 client header list decodes to over 65536 bytes (HPACK bomb?): the rest not kept"
        ),
        "{s1}"
    );
    let kept = s1["request"]["headers"].as_array().unwrap().len();
    // RFC 9113's measure (name + value + 32): the pseudo-headers take 42 + 43 + 42 = 127
    // bytes, each x-bomb field 4,038; 127 + 16 x 4,038 = 64,735 fits in 65,536, 17 do not.
    assert_eq!(kept, 3 + 16);
    assert_eq!(c["http2"]["hpack_failures"], 0, "decoded, only cut");
    assert_eq!(
        exchange(&c, 3)["request"]["uri"],
        "/after",
        "the table stayed right"
    );
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_tcpscope"))
        .arg("report")
        .arg(&path)
        .args(["--format", "json"])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let err = String::from_utf8_lossy(&o.stderr);
            let kb: u64 = err
                .lines()
                .last()
                .and_then(|l| l.trim().parse().ok())
                .unwrap();
            assert!(kb < 64 * 1024, "maximum resident set {kb} kB");
        }
        _ => eprintln!("GNU time not available: memory not measured"),
    }
}

// ---- a recorded lossy download ----

/// captures/h2-lossy-download.pcap (record-http2.sh): nftables dropped 5 of nghttpd's
/// segments after tcpdump saw them, so the capture holds each original and its
/// retransmission (tshark flags frames 77, 154, 285 and 326 as retransmissions). The two
/// multiplexed streams hash to the served files, and the frame counts are tshark's
/// (`tshark -d tcp.port==8080,http2 -Y http2 -T fields -e http2.type`).
#[test]
fn recorded_lossy_download_reassembles_across_retransmissions() {
    let text = std::fs::read_to_string(common::bundled("h2-served-sha256.txt")).unwrap();
    let sha = |f: &str| {
        text.lines()
            .find(|l| l.ends_with(&format!("  {f}")))
            .and_then(|l| l.split_whitespace().next())
            .unwrap()
            .to_string()
    };
    let c = only(&common::bundled("h2-lossy-download.pcap"));
    assert_eq!(c["app"], "http2");
    assert_eq!(c["analysis"]["retransmission"], 4);
    let h2 = &c["http2"];
    let mut total = std::collections::BTreeMap::new();
    for side in ["client", "server"] {
        for (k, v) in h2["frames"][side].as_object().unwrap() {
            *total.entry(k.as_str()).or_insert(0) += v.as_u64().unwrap();
        }
    }
    let want: std::collections::BTreeMap<&str, u64> = [
        ("DATA", 27),
        ("HEADERS", 4),
        ("PRIORITY", 5),
        ("SETTINGS", 4),
        ("GOAWAY", 1),
        ("WINDOW_UPDATE", 16),
    ]
    .into_iter()
    .collect();
    assert_eq!(total, want);
    assert!(h2.get("unparsed_after_gap").is_none());
    assert_eq!(h2["hpack_failures"], 0);
    for (s, path, file, len) in [
        (13, "/big.bin", "big.bin", 300_000),
        (15, "/b.txt", "b.txt", 46_890),
    ] {
        let e = exchange(&c, s);
        assert_eq!(e["request"]["uri"], path);
        assert_eq!(e["response"]["status"], 200);
        assert_eq!(e["response"]["body_bytes_wire"], len);
        assert_eq!(e["response"]["body_sha256"], sha(file).as_str());
        assert_eq!(e["end_state"], "complete");
    }
}
