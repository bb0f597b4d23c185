//! HTTP/2 out of real captures (captures/record-http2.sh: nghttpd, nginx, curl, nghttp):
//! streams, statuses and body SHA-256 against the served files, frame counts against
//! tshark; and captures built here for the bad-input cases (a 2^24-1 frame length, 10^5
//! streams, a CONTINUATION flood, a huge HPACK table size, invalid Huffman, gaps).

mod common;

use common::pcapgen::Cap;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use tcpscope::headless;

fn served() -> HashMap<String, String> {
    let text = std::fs::read_to_string(common::bundled("h2-served-sha256.txt")).unwrap();
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let sha = it.next()?.to_string();
            Some((format!("/{}", it.next()?), sha))
        })
        .collect()
}

/// The JSON of every connection of a capture.
fn conns(path: &std::path::Path) -> Vec<Value> {
    let (_, cs) = headless::run_path(path).unwrap();
    cs.iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect()
}

fn h2_conn(name: &str) -> Value {
    let cs = conns(&common::bundled(name));
    let h2: Vec<Value> = cs.into_iter().filter(|c| c["app"] == "http2").collect();
    assert_eq!(h2.len(), 1, "{name}: one HTTP/2 connection");
    h2.into_iter().next().unwrap()
}

/// (stream id, method, path, status, response sha, end state) of each h2 exchange.
fn streams(c: &Value) -> Vec<(u64, String, String, u64, String, String)> {
    c["http"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.get("stream_id").is_some())
        .map(|e| {
            (
                e["stream_id"].as_u64().unwrap(),
                e["request"]["method"].as_str().unwrap_or("").to_string(),
                e["request"]["uri"].as_str().unwrap_or("").to_string(),
                e["response"]["status"].as_u64().unwrap_or(0),
                e["response"]["body_sha256"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                e["end_state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn frame_total(c: &Value) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for side in ["client", "server"] {
        for (k, v) in c["http2"]["frames"][side].as_object().unwrap() {
            *m.entry(k.clone()).or_insert(0) += v.as_u64().unwrap();
        }
    }
    m
}

/// tshark's frame count per type name over the capture, or None without tshark.
fn tshark_frames(name: &str) -> Option<BTreeMap<String, u64>> {
    let out = std::process::Command::new("tshark")
        .args(["-r"])
        .arg(common::bundled(name))
        .args([
            "-d",
            "tcp.port==8080,http2",
            "-d",
            "tcp.port==8081,http2",
            "-d",
        ])
        .args([
            "tcp.port==8082,http",
            "-Y",
            "http2",
            "-T",
            "fields",
            "-e",
            "http2.type",
        ])
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
        *m.entry(
            NAMES
                .get(i)
                .map_or("UNKNOWN".to_string(), |s| s.to_string()),
        )
        .or_insert(0) += 1;
    }
    Some(m)
}

fn check_frames_against_tshark(name: &str, c: &Value) {
    let ours = frame_total(c);
    match tshark_frames(name) {
        Some(theirs) => assert_eq!(ours, theirs, "{name}: frame counts vs tshark -Y http2"),
        None => eprintln!("tshark not available: frame counts of {name} not compared"),
    }
}

#[test]
fn prior_knowledge_get_is_one_complete_stream() {
    let sha = served();
    let c = h2_conn("h2-prior-knowledge.pcap");
    let s = streams(&c);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, 1);
    assert_eq!(
        (s[0].1.as_str(), s[0].2.as_str(), s[0].3),
        ("GET", "/small.txt", 200)
    );
    assert_eq!(s[0].4, sha["/small.txt"]);
    assert_eq!(s[0].5, "complete");
    let ex = &c["http"][0];
    assert_eq!(ex["request"]["version"], "HTTP/2");
    assert_eq!(ex["response"]["version"], "HTTP/2");
    let h2 = &c["http2"];
    assert_eq!(h2["origin"], "prior-knowledge");
    assert!(
        h2["settings"]["client"]
            .as_object()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(h2["settings"]["server"].as_object().is_some());
    assert_eq!(h2["hpack_failures"], 0);
    check_frames_against_tshark("h2-prior-knowledge.pcap", &c);
}

/// curl 7.88 cannot multiplex prior-knowledge requests (see record-http2.sh): one
/// HTTP/2 connection per URL, each its stream 1.
#[test]
fn curl_parallel_connections_hash_to_the_served_files() {
    let sha = served();
    let name = "h2-parallel.pcap";
    let cs: Vec<Value> = conns(&common::bundled(name))
        .into_iter()
        .filter(|c| c["app"] == "http2")
        .collect();
    assert_eq!(cs.len(), 4);
    let mut paths = Vec::new();
    let mut ours = BTreeMap::new();
    for c in &cs {
        let s = streams(c);
        assert_eq!(s.len(), 1);
        let x = &s[0];
        assert_eq!(
            (x.0, x.3, x.4.as_str(), x.5.as_str()),
            (1, 200, sha[&x.2].as_str(), "complete"),
            "{x:?}"
        );
        paths.push(x.2.clone());
        for (k, v) in frame_total(c) {
            *ours.entry(k).or_insert(0) += v;
        }
    }
    paths.sort();
    assert_eq!(paths, ["/a.txt", "/b.txt", "/big.bin", "/c.txt"]);
    // big.bin (300,000 bytes) needs more than the initial 65,535-byte windows.
    let big = cs
        .iter()
        .find(|c| c["http"][0]["request"]["uri"] == "/big.bin")
        .unwrap();
    assert!(
        big["http2"]["windows"]
            .as_array()
            .is_some_and(|w| !w.is_empty())
    );
    if let Some(theirs) = tshark_frames(name) {
        assert_eq!(ours, theirs, "{name}: frame counts vs tshark -Y http2");
    }
}

/// A real capture that lost packets (tcpdump on a busy loopback, kept as recorded): the
/// big.bin connection's first 44,888 server bytes and the client's HEADERS were never
/// captured. Its framing is lost, nothing is guessed; the other three are whole.
#[test]
fn capture_loss_loses_framing_without_guessing() {
    let cs: Vec<Value> = conns(&common::bundled("h2-capture-loss.pcap"));
    let complete = cs
        .iter()
        .filter(|c| c["http"][0]["end_state"] == "complete")
        .count();
    assert_eq!(complete, 3);
    let lossy = cs
        .iter()
        .find(|c| c["http2"]["unparsed_bytes"]["server"].as_u64() > Some(0))
        .unwrap();
    assert!(
        lossy["http"].as_array().is_none_or(|h| h.is_empty()),
        "no exchange invented"
    );
    assert!(anomalies(lossy).contains("server framing lost in a gap of 44888 bytes"));
    // tshark -Y tcp.analysis.lost_segment: frame 64 (client, seq 120) and 65 (server, seq
    // 44904 = 1 + the 15-byte SETTINGS + the 44,888 lost): the client's 55-byte HEADERS
    // and the server's first 44,888 bytes after its SETTINGS were never captured.
    let lost = &lossy["http2"]["unparsed_after_gap"];
    assert_eq!(lost["server"]["gap"], 44_888);
    assert_eq!(lost["server"]["frame"], 65);
    assert_eq!(lost["server"]["bytes"], 255_404);
    assert_eq!(lost["server"]["frames_before"], 1, "its SETTINGS");
    assert_eq!(lost["client"]["gap"], 55);
    assert_eq!(lost["client"]["frame"], Value::Null, "nothing after it");
    assert_eq!(
        lost["client"]["frames_before"], 2,
        "SETTINGS, WINDOW_UPDATE"
    );
    assert_eq!(lossy["http2"]["unparsed_bytes"]["server"], 255_404);
}

#[test]
fn nghttp_streams_and_goaway() {
    let sha = served();
    let c = h2_conn("h2-nghttp-multi.pcap");
    let s = streams(&c);
    assert_eq!(s.len(), 4, "{s:?}");
    for x in &s {
        assert_eq!(
            (x.3, x.4.as_str(), x.5.as_str()),
            (200, sha[&x.2].as_str(), "complete"),
            "{x:?}"
        );
    }
    assert_eq!(
        s.iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![13, 15, 17, 19],
        "stream id order"
    );
    assert_eq!(c["http2"]["goaway"]["error"], "NO_ERROR");
    // Multiplexing: some stream's response starts before another's ends.
    let spans: Vec<(u64, u64)> = c["http"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["response"]["frame"].as_u64().unwrap(),
                e["response"]["end_frame"].as_u64().unwrap(),
            )
        })
        .collect();
    let overlap = (0..spans.len()).any(|i| {
        (0..spans.len()).any(|j| i != j && spans[j].0 >= spans[i].0 && spans[j].0 < spans[i].1)
    });
    assert!(overlap, "responses interleave: {spans:?}");
    check_frames_against_tshark("h2-nghttp-multi.pcap", &c);
}

#[test]
fn post_body_is_the_sent_file() {
    let sha = served();
    let c = h2_conn("h2-post.pcap");
    let e = &c["http"][0];
    assert_eq!(e["request"]["method"], "POST");
    assert_eq!(e["request"]["body_sha256"], sha["/post.bin"].as_str());
    assert_eq!(e["request"]["body_bytes"], 20_000);
    assert_eq!(e["response"]["status"], 200);
    check_frames_against_tshark("h2-post.pcap", &c);
}

#[test]
fn nginx_gzip_body_decodes_to_the_file() {
    let sha = served();
    let c = h2_conn("h2-nginx-gzip.pcap");
    let e = &c["http"][0];
    assert_eq!(e["response"]["content_encoding"], "gzip");
    assert_eq!(e["response"]["body_sha256"], sha["/a.txt"].as_str());
    assert!(
        e["response"]["body_bytes_wire"].as_u64().unwrap()
            < e["response"]["body_bytes_decoded"].as_u64().unwrap()
    );
    check_frames_against_tshark("h2-nginx-gzip.pcap", &c);
}

#[test]
fn upgrade_h2c_hands_stream_1_to_http2() {
    let sha = served();
    let c = h2_conn("h2-upgrade.pcap");
    let http = c["http"].as_array().unwrap();
    assert_eq!(
        http.len(),
        2,
        "the HTTP/1.1 upgrade exchange, then stream 1"
    );
    assert_eq!(http[0]["response"]["status"], 101);
    assert_eq!(http[0]["tunnel"]["app"], "http2");
    assert_eq!(http[1]["stream_id"], 1);
    assert_eq!(http[1]["request"]["uri"], "/a.txt");
    assert_eq!(http[1]["response"]["status"], 200);
    assert_eq!(http[1]["response"]["version"], "HTTP/2");
    assert_eq!(http[1]["response"]["body_sha256"], sha["/a.txt"].as_str());
    assert_eq!(http[1]["end_state"], "complete");
    assert_eq!(c["http2"]["origin"], "upgrade");
}

// ---- built captures: bad input ----

fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut v = len.to_be_bytes()[1..].to_vec();
    v.push(ty);
    v.push(flags);
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// :method GET, :scheme http, :path /, :authority example (literal, not indexed).
const GET_BLOCK: &[u8] = &[
    0x82, 0x86, 0x84, 0x01, 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e',
];

/// A capture of one h2c connection: handshake, then each (from_client, bytes) in
/// segments of at most 1400 bytes; `lose` names segments (by index of the chunk list)
/// never captured.
fn h2_capture(name: &str, chunks: &[(bool, Vec<u8>)], lose: &[usize]) -> std::path::PathBuf {
    let mut c = Cap::new();
    c.server_port = 8080;
    let (mut cs, mut ss) = (1000u32, 5000u32);
    c.seg(0, true, "S", cs - 1, 0, &[]);
    c.seg(10, false, "SA", ss - 1, cs, &[]);
    c.seg(20, true, "A", cs, ss, &[]);
    let mut t = 100;
    for (i, (from_client, bytes)) in chunks.iter().enumerate() {
        for seg in bytes.chunks(1400) {
            let (seq, ack) = if *from_client { (cs, ss) } else { (ss, cs) };
            if lose.contains(&i) {
                c.lost(*from_client, "PA", seq, ack, seg);
            } else {
                c.seg(t, *from_client, "PA", seq, ack, seg);
            }
            if *from_client {
                cs += seg.len() as u32;
            } else {
                ss += seg.len() as u32;
            }
            t += 10;
        }
        // An ACK of the other side keeps the capture sane for the engine.
        let (seq, ack) = if *from_client { (ss, cs) } else { (cs, ss) };
        c.seg(t, !*from_client, "A", seq, ack, &[]);
        t += 10;
    }
    c.write(name)
}

fn only(path: &std::path::Path) -> Value {
    let mut cs = conns(path);
    assert_eq!(cs.len(), 1);
    cs.remove(0)
}

fn anomalies(c: &Value) -> String {
    c["http2"]["anomalies"].to_string()
}

fn client_hello() -> Vec<u8> {
    let mut v = PREFACE.to_vec();
    v.extend(frame(4, 0, 0, &[]));
    v
}

#[test]
fn frame_length_2_pow_24_minus_1_is_skipped_with_notes() {
    let mut v = client_hello();
    let mut f = frame(1, 0x4, 1, &[]);
    f[..3].copy_from_slice(&[0xff, 0xff, 0xff]);
    v.extend(f);
    v.extend(std::iter::repeat_n(0u8, 20_000));
    let c = only(&h2_capture("h2-huge-frame", &[(true, v)], &[]));
    assert_eq!(c["app"], "http2");
    let a = anomalies(&c);
    assert!(
        a.contains("frame of 16777215 bytes exceeds SETTINGS_MAX_FRAME_SIZE 16384"),
        "{a}"
    );
    assert!(
        a.contains("HEADERS frame of 16777215 bytes too long to read: skipped"),
        "{a}"
    );
    assert_eq!(c["http2"]["frames"]["client"]["HEADERS"], 1);
}

#[test]
fn ten_to_the_five_streams_are_counted_and_capped() {
    let mut v = client_hello();
    for i in 0..100_000u32 {
        v.extend(frame(1, 0x5, 2 * i + 1, GET_BLOCK));
    }
    let c = only(&h2_capture("h2-many-streams", &[(true, v)], &[]));
    assert_eq!(c["http2"]["streams"], 100_000);
    assert_eq!(c["http2"]["streams_not_listed"], 90_000);
    assert_eq!(c["http"].as_array().unwrap().len(), 10_000);
    assert_eq!(c["http2"]["frames"]["client"]["HEADERS"], 100_000);
    assert_eq!(c["http"][0]["request"]["uri"], "/");
}

#[test]
fn continuation_flood_is_capped_and_poisons_the_table() {
    let mut v = client_hello();
    v.extend(frame(1, 0, 1, GET_BLOCK));
    for _ in 0..5000 {
        v.extend(frame(9, 0, 1, &[0x40; 100]));
    }
    v.extend(frame(9, 0x4, 1, &[]));
    v.extend(frame(1, 0x5, 3, GET_BLOCK));
    let c = only(&h2_capture("h2-continuation-flood", &[(true, v)], &[]));
    let a = anomalies(&c);
    assert!(
        a.contains("header block over 65536 bytes in 657 frames"),
        "{a}"
    );
    assert_eq!(c["http2"]["frames"]["client"]["CONTINUATION"], 5001);
    // Stream 3's block comes after a block whose table changes are unknown.
    assert!(a.contains("client header block undecodable"), "{a}");
    assert_eq!(c["http2"]["hpack_failures"], 1);
}

#[test]
fn huge_hpack_table_size_is_refused() {
    let mut srv = frame(4, 0, 0, &[0, 1, 0xff, 0xff, 0xff, 0xff]);
    srv.extend(frame(4, 1, 0, &[]));
    let mut cli = client_hello();
    cli.extend(frame(
        1,
        0x5,
        1,
        &[0x3f, 0xe1, 0xff, 0xff, 0x7f, 0x82, 0x84, 0x86],
    ));
    cli.extend(frame(1, 0x5, 3, GET_BLOCK));
    let c = only(&h2_capture(
        "h2-hpack-table",
        &[(false, srv), (true, cli)],
        &[],
    ));
    let a = anomalies(&c);
    assert!(
        a.contains("HPACK table size 4294967295 above the cap 1048576"),
        "{a}"
    );
    assert!(
        a.contains("HPACK table size 268435456 above the cap 1048576"),
        "{a}"
    );
    assert_eq!(
        c["http2"]["hpack_failures"], 2,
        "the refused block and the one after"
    );
    assert_eq!(
        c["http2"]["settings"]["server"]["SETTINGS_HEADER_TABLE_SIZE"],
        4_294_967_295u64
    );
}

#[test]
fn invalid_huffman_is_an_hpack_error() {
    let mut cli = client_hello();
    cli.extend(frame(
        1,
        0x5,
        1,
        &[0x82, 0x00, 0x01, b'a', 0x84, 0xff, 0xff, 0xff, 0xff],
    ));
    let c = only(&h2_capture("h2-bad-huffman", &[(true, cli)], &[]));
    let a = anomalies(&c);
    assert!(a.contains("HPACK error"), "{a}");
    assert_eq!(c["http2"]["hpack_failures"], 1);
}

#[test]
fn gap_inside_data_keeps_framing_gap_over_headers_poisons() {
    let mut srv = frame(4, 0, 0, &[]);
    srv.extend(frame(1, 0x4, 1, &[0x88]));
    let mut cli = client_hello();
    cli.extend(frame(1, 0x5, 1, GET_BLOCK));
    cli.extend(frame(1, 0x5, 3, GET_BLOCK));
    let body = vec![7u8; 4000];
    let data = frame(0, 0x1, 1, &body);
    // Chunks: 0 client hello+requests, 1 server headers, 2 DATA head (first 1400 bytes),
    // 3 DATA middle (lost, inside the frame), 4 the DATA tail, 5 stream 3's HEADERS lost,
    // 6 a later DATA for stream 3 (framing lost: unparsed, not misread).
    let (a, rest) = data.split_at(1400);
    let (b, c_) = rest.split_at(1400);
    let chunks = vec![
        (true, cli),
        (false, srv),
        (false, a.to_vec()),
        (false, b.to_vec()),
        (false, c_.to_vec()),
        (false, frame(1, 0x4, 3, &[0x88])),
        (false, frame(0, 0x1, 3, b"hello")),
    ];
    let c = only(&h2_capture("h2-gaps", &chunks, &[3, 5]));
    let s1 = &c["http"][0];
    assert_eq!(s1["stream_id"], 1);
    assert_eq!(s1["response"]["status"], 200);
    assert_eq!(s1["response"]["body_bytes_missing"], 1400);
    assert_eq!(s1["response"]["body_sha256"], Value::Null);
    let a = anomalies(&c);
    assert!(
        a.contains("server framing lost in a gap of 10 bytes"),
        "{a}"
    );
    assert_eq!(c["http2"]["unparsed_bytes"]["server"], 14);
    let s3 = &c["http"][1];
    assert_eq!(s3["stream_id"], 3);
    assert!(s3["response"].is_null(), "never guessed: {s3}");
    assert_eq!(s3["end_state"], "incomplete");
}
