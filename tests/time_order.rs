//! Time never runs backwards in a result: a capture whose clock goes back (a bogus
//! timestamp 21 years early, a 3 ms reordering) gives no negative or absurd duration,
//! RTT or span; the measurements across it are left out and counted, and warnings name
//! the frames. Built here with PacketBuilder; checked through the real binary.

mod common;

use common::json;
use common::pcap::{Pcap, Tcp, report};

const MS: i64 = 1_000_000;
const T0: i64 = 1_700_000_000_000_000_000;
/// How far before the SYN the damaged SYN-ACK is stamped (about 21 years).
const BOGUS_BY: i64 = 668_322_441_995 * MS;

/// Frames: 1 SYN (T0), 2 SYN-ACK stamped 21 years early, 3 ACK (+60 ms), 4 request
/// (+70), 5 server ACK (+90), 6 response (+100), 7 client ACK stamped 3 ms before frame
/// 6 (+97), 8-10 FIN, FIN-ACK, ACK (+120, +130, +140).
fn damaged() -> std::path::PathBuf {
    let mut p = Pcap::new();
    let mut c = Tcp::new(([10, 0, 0, 1], 40000), ([10, 0, 0, 2], 80));
    c.seg(&mut p, T0, true, "S", &[]);
    c.seg(&mut p, T0 - BOGUS_BY, false, "SA", &[]);
    c.seg(&mut p, T0 + 60 * MS, true, "A", &[]);
    c.seg(
        &mut p,
        T0 + 70 * MS,
        true,
        "PA",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    c.seg(&mut p, T0 + 90 * MS, false, "A", &[]);
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    c.seg(&mut p, T0 + 100 * MS, false, "PA", resp);
    c.seg(&mut p, T0 + 97 * MS, true, "A", &[]);
    c.close(&mut p, T0 + 120 * MS, 10 * MS);
    assert_eq!(p.frames, 10);
    p.write("time-backwards.pcap")
}

#[test]
fn a_clock_that_goes_back_gives_no_negative_measurement() {
    let file = damaged();
    let raw = report(&file, "json", &["--threads", "1"]);
    let d = json(raw.as_bytes());
    let cap = &d["capture"];
    assert_eq!(cap["timestamps_backwards"], 2, "{cap}");
    // RTT: SYN->SYN-ACK (its end early), SYN-ACK->ACK (its start early), response->ACK
    // (the ACK 3 ms early); handshake: syn_to_syn_ack_ms, syn_ack_to_ack_ms.
    assert_eq!(cap["measurements_skipped"], 5, "{cap}");
    // Timestamps keep their nine decimals only in the raw text.
    assert!(raw.contains("\"first_ts\": 1700000000.000000000"), "{raw}");
    assert!(raw.contains("\"last_ts\": 1700000000.140000000"), "{raw}");
    let w: Vec<&str> = cap["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("frame 2's time is 21 years before frame 1's"),
        "{w:?}"
    );
    assert!(
        w[1].starts_with("frame 7's time is 3 ms before frame 6's"),
        "{w:?}"
    );

    let conns = d["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1);
    let c = &conns[0];
    assert_eq!(c["timestamps_backwards"], 2);
    assert!(raw.contains("\"start_ts\": 1700000000.000000000"), "{raw}");
    assert!(raw.contains("\"end_ts\": 1700000000.140000000"), "{raw}");
    let h = &c["handshake"];
    assert_eq!(h["outcome"], "complete", "{h}");
    assert!(h["syn_to_syn_ack_ms"].is_null(), "{h}");
    assert!(h["syn_ack_to_ack_ms"].is_null(), "{h}");
    assert_eq!(h["irtt_ms"], 60.0, "SYN to ACK are both in order: {h}");
    assert_eq!(h["timings_skipped"], 2, "{h}");
    let rtt = &c["rtt"];
    // Request->ACK 20 ms, FIN->FIN-ACK 10 ms, FIN-ACK->ACK 10 ms.
    assert_eq!(rtt["samples"], 3, "{rtt}");
    assert_eq!(rtt["samples_skipped"], 3, "{rtt}");
    assert_eq!(rtt["min_ms"], 10.0, "{rtt}");
    assert_eq!(rtt["max_ms"], 20.0, "{rtt}");
    // Nothing anywhere in the report is a negative number.
    fn no_negative(v: &serde_json::Value, path: &str) {
        match v {
            serde_json::Value::Number(n) => {
                assert!(n.as_f64().unwrap() >= 0.0, "{path} = {n}")
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    no_negative(x, &format!("{path}[{i}]"));
                }
            }
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    no_negative(x, &format!("{path}.{k}"));
                }
            }
            _ => {}
        }
    }
    no_negative(&d, "");
    assert_eq!(c["http"].as_array().map(Vec::len), Some(1));
}

#[test]
fn the_text_report_spans_first_to_latest_and_says_what_was_left_out() {
    let file = damaged();
    let t = report(&file, "text", &["--threads", "1"]);
    assert!(t.contains("over 0.140 s"), "{t}");
    assert!(
        t.contains(
            "time        2 packets stamped before an earlier packet, 5 measurements across them left out"
        ),
        "{t}"
    );
    assert!(
        t.contains("warning     frame 2's time is 21 years before frame 1's"),
        "{t}"
    );
    let row = t.lines().nth(1).unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    // ID CLIENT SERVER APP STATE HANDSHAKE iRTT DURATION ...
    assert_eq!(cols[6], "60.000", "{row}");
    assert_eq!(cols[7], "0.140", "{row}");
}

#[test]
fn ndjson_and_every_thread_count_agree() {
    let file = damaged();
    let one = report(&file, "json", &["--threads", "1"]);
    for n in ["2", "4"] {
        assert_eq!(
            report(&file, "json", &["--threads", n]),
            one,
            "--threads {n}"
        );
    }
    let nd = report(&file, "ndjson", &["--threads", "2"]);
    let summary = json(nd.lines().last().unwrap().as_bytes());
    assert_eq!(summary["capture"]["timestamps_backwards"], 2);
    assert_eq!(summary["capture"]["measurements_skipped"], 5);
}

/// Many small reorderings: all counted, the first five named, the rest summed up.
#[test]
fn many_reorderings_are_counted_and_five_are_named() {
    let mut p = Pcap::new();
    let mut c = Tcp::new(([10, 0, 0, 1], 40001), ([10, 0, 0, 2], 80));
    c.handshake(&mut p, T0, 2 * MS);
    // 8 pairs of client data; the second of each pair stamped 4 µs before the first.
    for i in 0..8i64 {
        let t = T0 + (10 + i) * MS;
        c.seg(&mut p, t, true, "PA", b"x");
        c.seg(&mut p, t - 4_000, true, "PA", b"y");
    }
    let file = p.write("reordered.pcap");
    let d = json(report(&file, "json", &["--threads", "1"]).as_bytes());
    let cap = &d["capture"];
    assert_eq!(cap["timestamps_backwards"], 8, "{cap}");
    let w = cap["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 6, "{cap}");
    assert!(
        w[0].as_str()
            .unwrap()
            .starts_with("frame 5's time is 4 µs before frame 4's"),
        "{cap}"
    );
    assert!(
        w[5].as_str().unwrap().starts_with("3 more packets"),
        "{cap}"
    );
    let c = &d["connections"][0];
    // Client data from frame 4 (T0+10 ms) to frame 18 (T0+17 ms): 16 bytes over 7 ms.
    let bps = c["throughput_bps"]["client"].as_f64().unwrap();
    assert!((bps - 16.0 / 0.007).abs() < 1e-6, "{bps}");
}

#[test]
fn explain_shows_no_negative_offset_and_says_what_was_left_out() {
    let file = damaged();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .arg("explain")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(
        t.contains("Frame 2  stamped 21 years before the first packet (the clock went back)"),
        "{t}"
    );
    assert!(!t.contains("+-"), "{t}");
    assert!(
        t.contains("2 packets of this connection are stamped before an earlier one"),
        "{t}"
    );
    assert!(t.contains("5 timings across them"), "{t}");
}

/// An HTTP response stamped before its request (the clock went back 10 ms between them):
/// no negative ttfb or total; both are left out and counted.
#[test]
fn http_timings_never_run_backwards() {
    let mut p = Pcap::new();
    let mut c = Tcp::new(([10, 0, 0, 1], 40000), ([10, 0, 0, 2], 80));
    c.handshake(&mut p, T0, 2 * MS);
    c.seg(
        &mut p,
        T0 + 70 * MS,
        true,
        "PA",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    c.seg(&mut p, T0 + 60 * MS, false, "PA", resp);
    c.close(&mut p, T0 + 120 * MS, 10 * MS);
    let d = json(report(&p.write("http-backwards.pcap"), "json", &[]).as_bytes());
    let x = &d["connections"][0]["http"][0];
    assert_eq!(x["response"]["status"], 200, "{x}");
    assert!(x["ttfb_ms"].is_null() && x["total_ms"].is_null(), "{x}");
    assert_eq!(x["timings_skipped"], 2, "{x}");
    assert_eq!(d["capture"]["timestamps_backwards"], 1);
    // 2 HTTP timings, and 2 RTT samples: the response (stamped early) ACKs the request,
    // and the client's FIN ACKs the early-stamped response.
    assert_eq!(d["connections"][0]["rtt"]["samples_skipped"], 2);
    assert_eq!(d["capture"]["measurements_skipped"], 4, "{}", d["capture"]);
}
