//! `report --packets` in text: one line per packet under its connection, as `tshark -r`
//! lists them: frame, seconds since the connection's first packet, direction, flags,
//! relative seq/ack (the SYN is seq 0), payload length, window (scaled when the scale is
//! known) and the analysis flags that fired. Each block is measured whole, so its
//! columns always line up.

use super::grid::{self, Line, Paint, width};
use crate::flow::Dir;
use crate::pipeline::Connection;
use crate::tcp::PacketRecord;
use crate::tcp::analysis::Flag;

/// Where the packet block starts: under the connection row's CLIENT column.
const INDENT: usize = 4;
const HEADS: [&str; 9] = [
    "FRAME", "TIME", "DIR", "FLAGS", "SEQ", "ACK", "LEN", "WIN", "ANALYSIS",
];
const RIGHT: [bool; 9] = [true, true, false, false, true, true, true, true, false];
const ANALYSIS: usize = 8;

/// The lines of `c`'s packet list (none when its packets were not kept), fitted into
/// `budget` columns where they can be (the analysis wraps at its commas).
pub fn lines(c: &Connection, budget: Option<usize>, color: bool) -> Vec<String> {
    let Some(s) = c.summary.as_ref() else {
        return Vec::new();
    };
    let Some(pkts) = s.packets.as_ref() else {
        return Vec::new();
    };
    let rows: Vec<([String; 9], Vec<String>, bool)> = pkts
        .iter()
        .map(|p| (cells(c, p), marks(p), p.flags.rst()))
        .collect();
    let mut w = HEADS.map(width);
    for (cells, _, _) in &rows {
        for i in 0..ANALYSIS {
            w[i] = w[i].max(width(&cells[i]));
        }
    }
    let mut starts = [0; 9];
    let mut at = INDENT;
    for i in 0..9 {
        starts[i] = at;
        at += w[i] + 2;
    }
    let room = budget.map_or(usize::MAX, |b| b.saturating_sub(starts[ANALYSIS]).max(16));
    let mut out = Vec::with_capacity(rows.len() + 2);
    let mut head = Line::new(false);
    for i in 0..9 {
        head.cell(HEADS[i], starts[i], w[i], RIGHT[i], None);
    }
    out.push(head.finish());
    for (cells, marks, rst) in &rows {
        let mut line = Line::new(color);
        for i in 0..ANALYSIS {
            let paint = (i == 3 && *rst).then_some(Paint::Red);
            line.cell(&cells[i], starts[i], w[i], RIGHT[i], paint);
        }
        let mut wrapped = grid::wrap_items(marks, room).into_iter();
        if let Some(first) = wrapped.next() {
            line.cell(&first, starts[ANALYSIS], 0, false, Some(Paint::Yellow));
        }
        out.push(line.finish());
        for more in wrapped {
            let mut cont = Line::new(color);
            cont.cell(&more, starts[ANALYSIS], 0, false, Some(Paint::Yellow));
            out.push(cont.finish());
        }
    }
    if s.packets_not_kept > 0 {
        out.push(format!(
            "{:INDENT$}{} more packets not kept (over the per-connection limit)",
            "", s.packets_not_kept
        ));
    }
    out
}

fn cells(c: &Connection, p: &PacketRecord) -> [String; 9] {
    [
        p.frame.to_string(),
        format!("{:.6}", p.ts.secs_since(c.start_ts)),
        match p.dir {
            Dir::Client => "C→S".to_string(),
            Dir::Server => "S→C".to_string(),
        },
        p.flags.to_string(),
        p.seq.to_string(),
        if p.flags.ack() {
            p.ack.to_string()
        } else {
            String::new()
        },
        p.len.to_string(),
        p.window_scaled.unwrap_or(u64::from(p.window)).to_string(),
        String::new(),
    ]
}

/// The analysis flags of one packet, Wireshark's words (`Dup ACK #2`).
fn marks(p: &PacketRecord) -> Vec<String> {
    let mut v: Vec<String> = p
        .analysis
        .iter()
        .map(|f| match (f.flag(), p.dup_ack_num) {
            (Flag::DuplicateAck, Some(n)) => format!("{} #{n}", Flag::DuplicateAck.label()),
            (flag, _) => flag.label().to_string(),
        })
        .collect();
    if p.options_truncated {
        v.push("options cut by the snapshot length".into());
    }
    v
}
