//! The human-readable report: a capture summary, then one row per connection.

use crate::analyze::{CaptureStats, Connection};
use std::io::{self, Write};

pub fn write(out: &mut dyn Write, st: &CaptureStats, conns: &[Connection]) -> io::Result<()> {
    writeln!(out, "capture     {}", st.file)?;
    writeln!(
        out,
        "link types  {}",
        if st.linktypes.is_empty() {
            "-".to_string()
        } else {
            st.linktypes.join(", ")
        }
    )?;
    let dur = match (st.first_ts, st.last_ts) {
        (Some(a), Some(b)) => format!("{:.3} s", b.secs_since(a)),
        _ => "-".into(),
    };
    writeln!(
        out,
        "packets     {} total, {} TCP, {} truncated, over {dur}",
        st.packets, st.tcp_packets, st.truncated_packets
    )?;
    if !st.skipped.is_empty() {
        let s: Vec<String> = st.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(out, "skipped     {}", s.join(", "))?;
    }
    if st.ip_fragments > 0 || st.malformed_tcp > 0 {
        writeln!(
            out,
            "flagged     {} IP fragments (not reassembled), {} unreadable TCP headers",
            st.ip_fragments, st.malformed_tcp
        )?;
    }
    if st.evicted_connections > 0 {
        writeln!(
            out,
            "evicted     {} connections finished early (too many open at once)",
            st.evicted_connections
        )?;
    }
    for w in &st.warnings {
        writeln!(out, "warning     {w}")?;
    }
    writeln!(out, "connections {}", conns.len())?;
    if conns.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let cw = conns
        .iter()
        .map(|c| c.client.to_string().len())
        .max()
        .unwrap_or(6)
        .max(6);
    let sw = conns
        .iter()
        .map(|c| c.server.to_string().len())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        out,
        "{:>5}  {:<cw$}  {:<sw$}  {:<7}  {:<6}  {:<22}  {:>9}  {:>8}  {:>11}  {:>17}  {:>4}  {}",
        "ID",
        "CLIENT",
        "SERVER",
        "APP",
        "STATE",
        "HANDSHAKE",
        "iRTT ms",
        "DURATION",
        "PKTS C/S",
        "BYTES C/S",
        "HTTP",
        "ANALYSIS"
    )?;
    for c in conns {
        let client = if c.role_guessed {
            format!("{}?", c.client)
        } else {
            c.client.to_string()
        };
        let (state, hs, irtt, notes) = match &c.summary {
            Some(s) => (
                s.conn_state.to_string(),
                format!("{:?}", s.handshake.outcome).to_lowercase(),
                s.handshake
                    .irtt_ms
                    .map_or("-".to_string(), |v| format!("{v:.3}")),
                analysis_notes(&s.analysis),
            ),
            None => ("-".into(), "-".into(), "-".into(), String::new()),
        };
        writeln!(
            out,
            "{:>5}  {:<cw$}  {:<sw$}  {:<7}  {:<6}  {:<22}  {:>9}  {:>8.3}  {:>11}  {:>17}  {:>4}  {}",
            c.id,
            client,
            c.server.to_string(),
            format!("{:?}", c.app).to_lowercase(),
            state,
            hs,
            irtt,
            c.end_ts.secs_since(c.start_ts),
            format!("{}/{}", c.packets.client, c.packets.server),
            format!("{}/{}", c.payload_bytes.client, c.payload_bytes.server),
            c.http.len(),
            notes,
        )?;
    }
    if conns.iter().any(|c| c.role_guessed) {
        writeln!(
            out,
            "\n? client/server guessed: the connection's opening SYN was not captured"
        )?;
    }
    Ok(())
}

/// A compact list of the analysis flags that fired, e.g. `retrans 3, dup-ack 5`.
fn analysis_notes(a: &crate::tcp::analysis::Counts) -> String {
    let mut v = Vec::new();
    for (n, label) in [
        (a.retransmission, "retrans"),
        (a.out_of_order, "ooo"),
        (a.duplicate_ack, "dup-ack"),
        (a.lost_segment, "lost"),
        (a.ack_unseen, "ack-unseen"),
        (a.zero_window, "zero-win"),
        (a.keep_alive, "keep-alive"),
        (a.impossible_flags, "bad-flags"),
        (a.overlap_conflict, "overlap-diff"),
    ] {
        if n > 0 {
            v.push(format!("{label} {n}"));
        }
    }
    v.join(", ")
}
