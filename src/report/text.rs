//! The human-readable report: one row per connection as it finishes, then a summary of
//! the capture.

use crate::pipeline::{CaptureStats, Connection};
use std::io::{self, Write};

/// Column widths are fixed so rows can be written as connections finish.
const EP: usize = 21;

#[derive(Default)]
pub struct Table {
    rows: u64,
    guessed: bool,
}

impl Table {
    pub fn row(&mut self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
        if self.rows == 0 {
            writeln!(
                out,
                "{:>5}  {:<EP$}  {:<EP$}  {:<8}  {:<6}  {:<22}  {:>9}  {:>9}  {:>11}  {:>17}  {:>6}  ANALYSIS",
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
            )?;
        }
        self.rows += 1;
        self.guessed |= c.role_guessed;
        let client = if c.role_guessed {
            format!("{}?", c.client)
        } else {
            c.client.to_string()
        };
        let (state, hs, irtt, notes) = match &c.summary {
            Some(s) => (
                s.conn_state.to_string(),
                s.handshake.outcome.name().to_string(),
                s.handshake
                    .irtt_ms
                    .map_or("-".to_string(), |v| format!("{v:.3}")),
                analysis_notes(&s.analysis),
            ),
            None => ("-".into(), "-".into(), "-".into(), String::new()),
        };
        writeln!(
            out,
            "{:>5}  {:<EP$}  {:<EP$}  {:<8}  {:<6}  {:<22}  {:>9}  {:>9.3}  {:>11}  {:>17}  {:>6}  {}",
            c.id,
            client,
            c.server.to_string(),
            c.app_label(),
            state,
            hs,
            irtt,
            c.end_ts.secs_since(c.start_ts),
            format!("{}/{}", c.packets.client, c.packets.server),
            format!("{}/{}", c.payload_bytes.client, c.payload_bytes.server),
            http_cell(&c.http),
            notes,
        )
    }
}

pub fn summary(out: &mut dyn Write, st: &CaptureStats, t: &Table) -> io::Result<()> {
    if t.guessed {
        writeln!(
            out,
            "? client/server guessed: the connection's opening SYN was not captured"
        )?;
    }
    if t.rows > 0 {
        writeln!(out)?;
    }
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
    if st.timestamps_backwards > 0 || st.measurements_skipped > 0 {
        writeln!(
            out,
            "time        {} packets stamped before an earlier packet, {} measurements across them left out",
            st.timestamps_backwards, st.measurements_skipped
        )?;
    }
    if st.evicted_connections > 0 {
        writeln!(
            out,
            "evicted     {} connections finished early (too many open at once)",
            st.evicted_connections
        )?;
    }
    if let (Some(k), Some(i)) = (st.kernel_drops, st.interface_drops) {
        writeln!(
            out,
            "drops       {k} by the kernel (buffer full), {i} by the interface"
        )?;
    }
    for w in &st.warnings {
        writeln!(out, "warning     {w}")?;
    }
    writeln!(out, "connections {}", st.connections)
}

/// The HTTP column: exchanges whose request and response are both known and surely
/// paired, then `+N?` for those with a side missing (a head lost in a capture gap, or no
/// answer captured) or paired on an estimate, then `tunnel:APP` for each tunnel
/// (`49+1?`, `1 tunnel:smtp`).
pub fn http_cell(xs: &[crate::http::Exchange]) -> String {
    let sure = xs
        .iter()
        .filter(|x| x.request.is_some() && x.response.is_some() && !x.pairing_uncertain)
        .count();
    let odd = xs.len() - sure;
    let mut s = if odd == 0 {
        sure.to_string()
    } else {
        format!("{sure}+{odd}?")
    };
    for t in xs.iter().filter_map(|x| x.tunnel.as_ref()) {
        s.push_str(&format!(" tunnel:{}", t.app.name()));
    }
    s
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
        (a.zero_window_probe, "zw-probe"),
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
