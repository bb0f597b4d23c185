//! The text report's closing lines: what the capture was, its counts and warnings.

use crate::pipeline::CaptureStats;
use std::io::{self, Write};

pub fn write(out: &mut dyn Write, st: &CaptureStats) -> io::Result<()> {
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
    if !st.encapsulated.is_empty() {
        let s: Vec<String> = st
            .encapsulated
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            out,
            "tunnelled   {} (connections are the packets inside)",
            s.join(", ")
        )?;
    }
    if !st.skipped.is_empty() {
        let s: Vec<String> = st.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(out, "skipped     {}", s.join(", "))?;
    }
    if st.ip_fragments > 0 || st.malformed_tcp > 0 {
        let put_back = match (st.ip_datagrams_reassembled, st.fragments_given_up) {
            (0, 0) => "not reassembled".to_string(),
            (n, k) => format!("{n} TCP segments put back together, {k} datagrams incomplete"),
        };
        writeln!(
            out,
            "flagged     {} IP fragments ({put_back}), {} unreadable TCP headers",
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
