//! The TCP engine on real captures: per-frame analysis flags and iRTT against tshark's
//! oracle files, handshake outcomes, state sequences and Zeek summaries on the project's
//! own recorded captures. Where tcpscope and tshark differ, the test says why.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use tcpscope::capture::Source;
use tcpscope::headless;
use tcpscope::pipeline::{Config, Connection};
use tcpscope::tcp::handshake::Outcome;

fn analyse(path: &std::path::Path) -> Vec<Connection> {
    let mut cfg = Config::default();
    cfg.engine.keep_packets = true;
    headless::run(&Source::File(path.to_path_buf()), cfg)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .1
}

/// frame -> flags tcpscope set on it, for the four flags tshark's oracle lists.
fn our_flags(conns: &[Connection]) -> BTreeMap<u64, BTreeSet<&'static str>> {
    let mut m = BTreeMap::new();
    for c in conns {
        let Some(pk) = c.summary.as_ref().and_then(|s| s.packets.as_ref()) else {
            continue;
        };
        for p in pk {
            let set: BTreeSet<&'static str> = p
                .analysis
                .iter()
                .map(|f| f.flag().name())
                .filter(|n| {
                    matches!(
                        *n,
                        "retransmission" | "out_of_order" | "duplicate_ack" | "lost_segment"
                    )
                })
                .collect();
            m.insert(p.frame, set);
        }
    }
    m
}

#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public (or TCPSCOPE_PUBLIC_CAPTURES)"
)]
fn analysis_flags_and_irtt_equal_tshark_on_every_public_capture() {
    let Some(dir) = common::public_dir() else {
        return;
    };
    let mut failures = Vec::new();
    let mut compared_frames = 0;
    let mut compared_irtt = 0;
    for cap in common::public_captures(&dir) {
        let name = cap.file_stem().unwrap().to_string_lossy().to_string();
        let conns = analyse(&cap);
        let ours = our_flags(&conns);
        let tsv = common::oracle(&dir, &cap, "tcp");
        let cols = [
            ("retransmission", tsv.col("tcp.analysis.retransmission")),
            ("out_of_order", tsv.col("tcp.analysis.out_of_order")),
            ("duplicate_ack", tsv.col("tcp.analysis.duplicate_ack")),
            ("lost_segment", tsv.col("tcp.analysis.lost_segment")),
        ];
        let fcol = tsv.col("frame.number");
        let irtt_col = tsv.col("tcp.analysis.initial_rtt");
        let mut tshark_irtt = BTreeSet::new();
        for row in &tsv.rows {
            let frame: u64 = row[fcol].parse().unwrap();
            let want: BTreeSet<&str> = cols
                .iter()
                .filter(|(_, i)| row.get(*i).is_some_and(|v| !v.is_empty()))
                .map(|(n, _)| *n)
                .collect();
            let got = ours.get(&frame).cloned().unwrap_or_default();
            compared_frames += 1;
            if want != got {
                failures.push(format!(
                    "{name} frame {frame}: tshark {want:?}, tcpscope {got:?}"
                ));
            }
            if let Some(v) = row.get(irtt_col).filter(|v| !v.is_empty()) {
                tshark_irtt.insert(v.clone());
            }
        }
        // iRTT to the microsecond: every value tshark reports belongs to one connection.
        // tshark also calls SYN -> RST of a refused port an "initial RTT"; there was no
        // handshake to time, so tcpscope shows no iRTT there and keeps the same round trip
        // as `syn_to_rst_ms` (that value must equal tshark's).
        for v in tshark_irtt {
            let want: f64 = v.parse().unwrap();
            let hit = conns.iter().any(|c| {
                c.summary
                    .as_ref()
                    .and_then(|s| s.handshake.irtt_ms.or(s.handshake.syn_to_rst_ms))
                    .is_some_and(|ms| (ms / 1000.0 - want).abs() < 1e-6)
            });
            compared_irtt += 1;
            if !hit {
                failures.push(format!("{name}: no connection has tshark's iRTT {v}"));
            }
        }
    }
    assert!(
        compared_frames > 2000,
        "only {compared_frames} frames compared"
    );
    assert!(compared_irtt >= 30, "only {compared_irtt} iRTTs compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn one(name: &str) -> Connection {
    let mut v = analyse(&common::bundled(name));
    assert_eq!(v.len(), 1, "{name}: expected one connection");
    v.remove(0)
}

fn states(c: &Connection, client: bool) -> Vec<String> {
    let s = c.summary.as_ref().unwrap();
    let v = if client {
        &s.states.client
    } else {
        &s.states.server
    };
    v.iter().map(|t| t.state.to_string()).collect()
}

#[test]
fn normal_get_four_way_close() {
    let c = one("http-get.pcap");
    let s = c.summary.as_ref().unwrap();
    assert_eq!(s.handshake.outcome, Outcome::Complete);
    assert_eq!(
        (
            s.handshake.syn_frame,
            s.handshake.syn_ack_frame,
            s.handshake.ack_frame
        ),
        (Some(1), Some(2), Some(3))
    );
    assert_eq!(s.conn_state, "SF");
    assert_eq!(s.history, "ShADadFf");
    assert_eq!(
        states(&c, true),
        ["SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "TIME-WAIT"]
    );
    assert_eq!(
        states(&c, false),
        [
            "LISTEN",
            "SYN-RECEIVED",
            "ESTABLISHED",
            "CLOSE-WAIT",
            "LAST-ACK",
            "CLOSED"
        ]
    );
    assert!(s.states.server[0].inferred, "LISTEN is inferred");
    assert_eq!(s.handshake.options.client.unwrap().mss, Some(1460));
    assert!(s.rtt.samples > 0);
}

#[test]
fn refused_connection() {
    let c = one("tcp-refused.pcap");
    let s = c.summary.as_ref().unwrap();
    assert_eq!(s.handshake.outcome, Outcome::Refused);
    assert_eq!(s.conn_state, "REJ");
    assert_eq!(states(&c, true), ["SYN-SENT", "CLOSED"]);
}

#[test]
fn syn_retries_are_counted_with_backoff() {
    let c = one("tcp-syn-retry.pcap");
    let s = c.summary.as_ref().unwrap();
    assert_eq!(s.handshake.syn_retransmissions, 2);
    assert_eq!(s.handshake.syns.len(), 3);
    let backoff = s.handshake.syns[1].backoff_ms.unwrap();
    assert!(backoff > 900.0 && backoff < 1200.0, "{backoff}");
    assert_eq!(s.handshake.outcome, Outcome::Complete);
    // iRTT counts from the SYN that was answered, as Wireshark does.
    assert!(s.handshake.irtt_ms.unwrap() < 100.0);
}

#[test]
fn half_close_keeps_data_flowing_after_the_first_fin() {
    let c = one("tcp-half-close.pcap");
    let s = c.summary.as_ref().unwrap();
    assert_eq!(states(&c, true)[2], "FIN-WAIT-1");
    assert!(states(&c, true).contains(&"FIN-WAIT-2".to_string()));
    assert!(states(&c, false).contains(&"CLOSE-WAIT".to_string()));
    // The server sent its body after receiving the client's FIN.
    let client_fin = s.states.client[2].frame;
    let pk = s.packets.as_ref().unwrap();
    let late_data = pk
        .iter()
        .filter(|p| p.frame > client_fin && p.len > 0 && p.dir == tcpscope::flow::Dir::Server)
        .count();
    assert!(late_data >= 3, "{late_data}");
    assert_eq!(s.conn_state, "SF");
}

#[test]
fn rst_abort_closes_both_ends() {
    let c = one("tcp-rst-abort.pcap");
    let s = c.summary.as_ref().unwrap();
    assert_eq!(s.conn_state, "RSTR");
    assert_eq!(states(&c, true).last().unwrap(), "CLOSED");
    assert_eq!(states(&c, false).last().unwrap(), "CLOSED");
}

#[test]
fn capture_started_mid_connection() {
    let c = one("tcp-midstream.pcap");
    let s = c.summary.as_ref().unwrap();
    assert_eq!(s.handshake.outcome, Outcome::NotCaptured);
    assert!(c.role_guessed);
    assert!(s.states.client[0].inferred);
    assert_eq!(s.states.client[0].state.to_string(), "ESTABLISHED");
}

#[test]
fn zero_window_and_window_updates() {
    let c = one("tcp-zero-window.pcap");
    let s = c.summary.as_ref().unwrap();
    assert!(s.analysis.zero_window >= 3, "{:?}", s.analysis);
    assert!(s.analysis.window_update >= 1, "{:?}", s.analysis);
}

#[test]
fn lossy_path_seen_from_both_ends() {
    // Server side: the originals and their retransmissions are both captured.
    let srv = one("tcp-lossy-server-side.pcap");
    let s = srv.summary.as_ref().unwrap();
    assert!(
        s.analysis.retransmission + s.analysis.out_of_order >= 15,
        "{:?}",
        s.analysis
    );
    assert!(s.analysis.duplicate_ack >= 10);
    assert!(s.gaps.is_empty(), "every byte was captured server-side");
    // Client side: dropped segments never reach the capture point before their resend.
    let cli = one("tcp-lossy-client-side.pcap");
    let s = cli.summary.as_ref().unwrap();
    assert!(s.analysis.lost_segment >= 10, "{:?}", s.analysis);
}

#[test]
fn timestamps_settle_retransmission_versus_reordering() {
    // tshark 4.0 calls frame 83 of the client-side lossy capture "out-of-order" because it
    // arrived within 3 ms of the highest segment. Its TSval is newer than that segment's:
    // the sender transmitted it later, so it is a retransmission that filled the hole.
    let cli = one("tcp-lossy-client-side.pcap");
    let pk = cli.summary.as_ref().unwrap().packets.as_ref().unwrap();
    let p = pk.iter().find(|p| p.frame == 83).unwrap();
    let names: Vec<&str> = p.analysis.iter().map(|f| f.flag().name()).collect();
    assert!(names.contains(&"retransmission"), "{names:?}");
    assert!(!names.contains(&"out_of_order"), "{names:?}");
    assert!(p.analysis.iter().any(|f| matches!(
        f,
        tcpscope::tcp::analysis::Finding::Retransmission {
            tsval_later: true,
            ..
        }
    )));
    let why: Vec<String> = p
        .analysis
        .iter()
        .map(tcpscope::explain::findings::why)
        .collect();
    assert!(why.iter().any(|w| w.contains("TSval")), "{why:?}");
}
