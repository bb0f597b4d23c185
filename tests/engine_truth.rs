//! The engine's truth on messy traffic, each situation built segment by segment (see
//! common/pcapgen.rs) and run through the real binary: refused SYNs retried with the
//! same ISN, options cut by the snapshot length, a FIN ahead of missing data, relative
//! numbers from the first packet, a refused port that never listened, Zeek's gap
//! letters and Zeek's own conn_state/history rules.

mod common;

use common::pcapgen::{Cap, Extra, report, run};
use serde_json::Value;

const C: bool = true;
const S: bool = false;

fn conns(v: &Value) -> &Vec<Value> {
    v["connections"].as_array().expect("connections")
}

fn states(c: &Value, side: &str) -> Vec<String> {
    common::states(c, side)
}

fn frames_of(c: &Value, side: &str) -> Vec<u64> {
    c["states"][side]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["frame"].as_u64().unwrap())
        .collect()
}

/// Client ISN 1000, server ISN 5000; a handshake at 0, 100, 200 µs.
fn handshake(c: &mut Cap) {
    c.seg(0, C, "S", 1000, 0, &[]);
    c.seg(100, S, "SA", 5000, 1001, &[]);
    c.seg(200, C, "A", 1001, 5001, &[]);
}

fn explain(path: &std::path::Path) -> String {
    String::from_utf8(run(&["explain", path.to_str().unwrap()])).unwrap()
}

/// Item 2: the same SYN (same ISN) after a RST is the same attempt, retried; a new ISN on
/// the same 4-tuple is a new connection, flagged as port reuse.
#[test]
fn syn_retried_after_rst_with_the_same_isn_is_one_attempt() {
    let mut c = Cap::new();
    c.server_port = 81;
    c.seg(0, C, "S", 1000, 0, &[]);
    c.seg(100, S, "RA", 0, 1001, &[]);
    c.seg(1_000_000, C, "S", 1000, 0, &[]);
    c.seg(1_000_100, S, "RA", 0, 1001, &[]);
    c.seg(3_000_000, C, "S", 1000, 0, &[]);
    c.seg(3_000_100, S, "RA", 0, 1001, &[]);
    // A new ISN on the same 4-tuple: port reuse.
    c.seg(3_500_000, C, "S", 777_000, 0, &[]);
    c.seg(3_500_100, S, "RA", 0, 777_001, &[]);
    let v = report(&c.write("syn-after-rst"));
    let cs = conns(&v);
    assert_eq!(cs.len(), 2, "{v:#}");
    let a = &cs[0];
    assert_eq!(a["handshake"]["outcome"], "refused");
    assert_eq!(a["handshake"]["syn_retransmissions"], 2);
    let syns: Vec<u64> = a["handshake"]["syns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["frame"].as_u64().unwrap())
        .collect();
    assert_eq!(syns, [1, 3, 5]);
    let backoff: Vec<f64> = a["handshake"]["syns"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["backoff_ms"].as_f64())
        .collect();
    assert_eq!(backoff, [1000.0, 2000.0]);
    assert_eq!(a["packets"]["client"], 3);
    assert_eq!(a["packets"]["server"], 3);
    assert_eq!(a["analysis"]["retransmission"], 2, "{:#}", a["analysis"]);
    assert_eq!(a["conn_state"], "REJ");
    assert_eq!(a["history"], "Sr");
    assert_eq!(
        states(a, "client"),
        [
            "SYN-SENT", "CLOSED", "SYN-SENT", "CLOSED", "SYN-SENT", "CLOSED"
        ]
    );
    assert!(
        states(a, "server").is_empty(),
        "a refusing server stays CLOSED"
    );
    assert!(a.get("port_reuse_of").is_none());
    let b = &cs[1];
    assert_eq!(b["port_reuse_of"], 1);
    assert_eq!(b["first_frame"], 7);
    assert_eq!(b["handshake"]["syn_retransmissions"], 0);
    assert_eq!(b["handshake"]["outcome"], "refused");
}

/// Item 3: a headers-only capture (snaplen 68) cuts the SYN's options, not its fixed
/// header: the SYN still opens the handshake, with the options captured and a mark, and a
/// cut data segment's gap counts the length the IP header announces.
#[test]
fn syn_with_options_cut_by_the_snapshot_length_is_still_a_syn() {
    let mut c = Cap::new().snaplen(68);
    // MSS 1460, SACK-permitted, timestamps, NOP, window scale 7: 20 option bytes.
    let opts = vec![
        2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
    ];
    let x = Extra {
        options: opts.clone(),
        ..Extra::default()
    };
    c.seg_x(0, C, "S", 1000, 0, &[], x.clone());
    c.seg_x(300, S, "SA", 5000, 1001, &[], x);
    c.seg(500, C, "A", 1001, 5001, &[]);
    c.seg(600, C, "PA", 1001, 5001, &[b'x'; 1000]);
    c.seg(700, S, "A", 5001, 2001, &[]);
    let v = report(&c.write("snaplen68"));
    assert_eq!(v["capture"]["truncated_packets"], 3, "{:#}", v["capture"]);
    let cs = conns(&v);
    assert_eq!(cs.len(), 1);
    let h = &cs[0]["handshake"];
    assert_eq!(h["outcome"], "complete");
    assert_eq!(
        (
            h["syn_frame"].as_u64(),
            h["syn_ack_frame"].as_u64(),
            h["ack_frame"].as_u64()
        ),
        (Some(1), Some(2), Some(3))
    );
    assert_eq!(h["irtt_ms"], 0.5);
    assert_eq!(h["client_isn"], 1000);
    assert_eq!(h["options"]["client"]["mss"], 1460);
    assert_eq!(h["options"]["client"]["sack_perm"], true);
    assert_eq!(h["options"]["client"]["options_truncated"], true);
    assert_eq!(cs[0]["packet_list"][0]["options_truncated"], true);
    assert_eq!(states(&cs[0], "client"), ["SYN-SENT", "ESTABLISHED"]);
    assert_eq!(
        states(&cs[0], "server"),
        ["LISTEN", "SYN-RECEIVED", "ESTABLISHED"]
    );
    let gaps = cs[0]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["dir"], "client");
    // 68 - 14 - 20 - 20 = 14 payload bytes were captured; the other 986 the IP header
    // announces are the gap.
    assert_eq!(gaps[0]["rel_seq"], 15);
    assert_eq!(gaps[0]["len"], 986);
    assert_eq!(cs[0]["payload_bytes"]["client"], 1000);
}

/// Item 4: a FIN that arrives ahead of missing data takes effect at the frame that fills
/// the hole; one whose hole is never captured takes effect at the ACK that covers it.
#[test]
fn fin_takes_effect_when_it_is_in_sequence() {
    let mut c = Cap::new();
    handshake(&mut c);
    c.seg(300, C, "PA", 1001, 5001, b"GET / HTTP/1.0\r\n\r\n"); // 4
    c.seg(400, S, "A", 5001, 1019, &[]); // 5
    c.seg(500, S, "A", 5001, 1019, &[b'a'; 1000]); // 6: 1..1000
    c.lost(S, "A", 6001, 1019, &[b'b'; 1000]); // 1001..2000, lost
    c.seg(700, S, "FPA", 7001, 1019, &[b'c'; 500]); // 7: FIN ahead of the hole
    c.seg(800, C, "A", 1019, 6001, &[]); // 8: the client ACKs below it
    c.seg(200_000, S, "A", 6001, 1019, &[b'b'; 1000]); // 9: the hole is filled
    c.seg(200_100, C, "A", 1019, 7502, &[]); // 10
    c.seg(200_200, C, "FA", 1019, 7502, &[]); // 11
    c.seg(200_300, S, "A", 7502, 1020, &[]); // 12
    let p = c.write("fin-ahead");
    let v = report(&p);
    let cs = conns(&v);
    assert_eq!(cs.len(), 1);
    let k = &cs[0];
    assert_eq!(
        states(k, "client"),
        [
            "SYN-SENT",
            "ESTABLISHED",
            "CLOSE-WAIT",
            "LAST-ACK",
            "CLOSED"
        ]
    );
    assert_eq!(frames_of(k, "client"), [1, 2, 9, 11, 12]);
    let cw = &k["states"]["client"][2];
    assert_eq!(cw["fin_frame"], 7);
    assert_eq!(
        states(k, "server"),
        [
            "LISTEN",
            "SYN-RECEIVED",
            "ESTABLISHED",
            "FIN-WAIT-1",
            "FIN-WAIT-2",
            "TIME-WAIT"
        ]
    );
    assert_eq!(frames_of(k, "server"), [1, 2, 3, 7, 10, 11]);
    // The packet list agrees: ESTABLISHED until frame 9.
    let pl = k["packet_list"].as_array().unwrap();
    assert_eq!(pl.len(), 12);
    let t = explain(&p);
    assert!(
        t.contains("FIN received at frame 7 ahead of missing data; it takes effect at frame 9"),
        "{t}"
    );

    // The hole is never captured, but the client's ACK covers the FIN: the capture
    // missed bytes the client got. The FIN takes effect at that ACK.
    let mut c = Cap::new();
    handshake(&mut c);
    c.seg(500, S, "A", 5001, 1001, &[b'a'; 1000]); // 4
    c.lost(S, "A", 6001, 1001, &[b'b'; 1000]);
    c.seg(700, S, "FA", 7001, 1001, &[]); // 5: FIN at 2001 (relative)
    c.seg(800, C, "A", 1001, 6001, &[]); // 6: below it
    c.seg(900, C, "A", 1001, 7002, &[]); // 7: covers the FIN
    let v = report(&c.write("fin-ahead-never-filled"));
    let k = &conns(&v)[0];
    assert_eq!(
        states(k, "client"),
        ["SYN-SENT", "ESTABLISHED", "CLOSE-WAIT"]
    );
    assert_eq!(frames_of(k, "client"), [1, 2, 7]);
    assert_eq!(k["states"]["client"][2]["fin_frame"], 5);
    assert_eq!(frames_of(k, "server"), [1, 2, 3, 5, 7]);
}

/// Item 6: on a capture that starts mid-connection, both sides' numbers are relative
/// from the first packet: the first ACK names byte 1 even before the peer has spoken.
#[test]
fn relative_numbers_start_at_the_first_packet() {
    let mut c = Cap::new();
    c.seg(0, S, "A", 2_014_300_000, 2_014_307_554, &[b'x'; 1448]);
    c.seg(100, C, "A", 2_014_307_554, 2_014_301_448, &[]);
    c.seg(200, S, "A", 2_014_301_448, 2_014_307_554, &[b'y'; 1448]);
    c.seg(300, C, "PA", 2_014_307_554, 2_014_302_896, b"more");
    let v = report(&c.write("midstream"));
    let pl = conns(&v)[0]["packet_list"].as_array().unwrap().clone();
    let nums: Vec<(u64, u64)> = pl
        .iter()
        .map(|p| (p["seq"].as_u64().unwrap(), p["ack"].as_u64().unwrap()))
        .collect();
    assert_eq!(nums, [(1, 1), (1, 1449), (1449, 1), (1, 2897)]);
}

/// Item 7: a SYN to a port nobody listens on is answered by RST (RFC 9293 §3.10.7.1): the
/// server never was in LISTEN, and the RST refuses rather than aborts.
#[test]
fn a_refused_port_never_had_a_listener() {
    let mut c = Cap::new();
    c.server_port = 81;
    c.seg(0, C, "S", 1000, 0, &[]);
    c.seg(50, S, "RA", 0, 1001, &[]);
    let p = c.write("refused");
    let v = report(&p);
    let k = &conns(&v)[0];
    assert_eq!(states(k, "client"), ["SYN-SENT", "CLOSED"]);
    assert!(states(k, "server").is_empty());
    assert_eq!(k["final_states"]["server"], "CLOSED");
    // No handshake, so no iRTT (the text report's column says `-`); the SYN→RST round
    // trip is kept under its own name: 50 µs.
    assert!(k["handshake"]["irtt_ms"].is_null(), "{}", k["handshake"]);
    assert_eq!(k["handshake"]["syn_to_rst_ms"], 0.05);
    let t = explain(&p);
    assert!(
        t.contains("no process listens on port 81: the connection is refused"),
        "{t}"
    );
    assert!(!t.contains("LISTEN →") && !t.contains("→ LISTEN"), "{t}");
    assert!(!t.contains("abort"), "{t}");
    let d = String::from_utf8(run(&["diagram", p.to_str().unwrap(), "--format", "ascii"])).unwrap();
    assert!(!d.contains("LISTEN"), "{d}");
}

/// Item 8: Zeek's content-gap letters: a lost server segment the client acknowledges
/// gives `g` (lower case: the responder's stream), on a cleanly established connection.
#[test]
fn content_gaps_give_zeek_gap_letters() {
    let mut c = Cap::new();
    handshake(&mut c);
    c.seg(300, C, "PA", 1001, 5001, b"GET / HTTP/1.0\r\n\r\n");
    c.seg(400, S, "A", 5001, 1019, &[b'a'; 1000]);
    c.lost(S, "A", 6001, 1019, &[b'b'; 1000]);
    c.seg(600, S, "A", 7001, 1019, &[b'c'; 1000]);
    c.seg(700, C, "A", 1019, 8001, &[]);
    c.seg(800, S, "FA", 8001, 1019, &[]);
    c.seg(900, C, "FA", 1019, 8002, &[]);
    c.seg(1000, S, "A", 8002, 1020, &[]);
    let v = report(&c.write("gap-letters"));
    let k = &conns(&v)[0];
    // S h A D d, then the gap (at the client's ACK past it), the server's FIN, the
    // client's FIN, the server's last ACK.
    assert_eq!(k["history"], "ShADdgfFa", "{k:#}");
    assert_eq!(k["conn_state"], "SF");
    let gaps = k["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!(
        (gaps[0]["rel_seq"].as_u64(), gaps[0]["len"].as_u64()),
        (Some(1001), Some(1000))
    );
}

/// Item 13: where Zeek's definitions differ from a plain reading, conn_state and history
/// follow Zeek (its TCP analyzer's endpoint states), while the RFC 9293 state lists keep
/// what happened.
#[test]
fn zeek_rules_for_conn_state_and_history() {
    // Server FIN, client FIN, then a server RST: Zeek ignores a RST once both closed.
    let mut c = Cap::new();
    handshake(&mut c);
    c.seg(300, S, "FA", 5001, 1001, &[]);
    c.seg(400, C, "FA", 1001, 5002, &[]);
    c.seg(500, S, "RA", 5002, 1002, &[]);
    let v = report(&c.write("fin-fin-rst"));
    let k = &conns(&v)[0];
    assert_eq!(k["conn_state"], "SF");
    assert_eq!(k["history"], "ShAfFr");
    assert_eq!(states(k, "server").last().unwrap(), "CLOSED");

    // Client FIN, client RST, then the server's FIN: the FIN turns the RST back into a
    // normal close.
    let mut c = Cap::new();
    handshake(&mut c);
    c.seg(300, C, "FA", 1001, 5001, &[]);
    c.seg(400, C, "RA", 1002, 5001, &[]);
    c.seg(500, S, "FA", 5001, 1002, &[]);
    let v = report(&c.write("fin-rst-fin"));
    let k = &conns(&v)[0];
    assert_eq!(k["conn_state"], "SF");
    assert_eq!(k["history"], "ShAFRf");

    // A capture that begins with the SYN-ACK, then ACK and data both ways: S1.
    let mut c = Cap::new();
    c.seg(100, S, "SA", 5000, 1001, &[]);
    c.seg(200, C, "A", 1001, 5001, &[]);
    c.seg(300, C, "PA", 1001, 5001, b"hello");
    c.seg(400, S, "PA", 5001, 1006, b"world");
    let v = report(&c.write("synack-first"));
    let k = &conns(&v)[0];
    assert_eq!(k["conn_state"], "S1");
    assert_eq!(k["history"], "^hADd");

    // Every frame captured twice (same bytes): Zeek counts the copies' payload as
    // retransmissions (t/T), whatever else calls them.
    let mut c = Cap::new();
    let mut t = 0;
    let mut add = |c: &mut Cap, from: bool, f: &str, s: u32, a: u32, d: &[u8]| {
        t += 100;
        c.seg(t, from, f, s, a, d);
        c.duplicate_last(t + 5);
    };
    add(&mut c, C, "S", 1000, 0, &[]);
    add(&mut c, S, "SA", 5000, 1001, &[]);
    add(&mut c, C, "A", 1001, 5001, &[]);
    add(&mut c, C, "PA", 1001, 5001, b"GET / HTTP/1.0\r\n\r\n");
    add(&mut c, S, "PA", 5001, 1019, b"HTTP/1.0 200 OK\r\n\r\nhi");
    add(&mut c, C, "FA", 1019, 5022, &[]);
    add(&mut c, S, "FA", 5022, 1020, &[]);
    let v = report(&c.write("all-twice"));
    let k = &conns(&v)[0];
    assert_eq!(k["history"], "ShADTdtFf");
    assert_eq!(k["conn_state"], "SF");
}

/// Zeek's own conn.log baselines for public traces (when the shared captures are here):
/// conn_state and history agree connection by connection.
#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public (or TCPSCOPE_PUBLIC_CAPTURES)"
)]
fn conn_state_and_history_equal_zeek_baselines() {
    let Some(dir) = common::public_dir() else {
        return;
    };
    let mut checked = 0;
    for cap in common::public_captures(&dir) {
        let stem = cap.file_stem().unwrap().to_string_lossy().to_string();
        let log = dir.join("oracle").join(format!("{stem}.zeek-conn.log"));
        let Ok(text) = std::fs::read_to_string(&log) else {
            continue;
        };
        let v = report(&cap);
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 16 || f[6] != "tcp" {
                continue;
            }
            let (client, server) = (format!("{}:{}", f[2], f[3]), format!("{}:{}", f[4], f[5]));
            let ours = conns(&v)
                .iter()
                .find(|c| c["client"] == client.as_str() && c["server"] == server.as_str())
                .unwrap_or_else(|| panic!("{stem}: no connection {client} -> {server}"));
            assert_eq!(ours["conn_state"], f[11], "{stem} {client}");
            assert_eq!(ours["history"], f[15], "{stem} {client}");
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} Zeek rows checked");
}
