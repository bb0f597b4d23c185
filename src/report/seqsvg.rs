//! `diagram --graph seq`: the sequence-number/time graph (`seqgraph`) as SVG, one panel
//! per direction that sends data, drawn as tcptrace does: an I-bar per segment (black,
//! red with `R` for a retransmission, `FR` for a fast retransmit), the ACK line in green
//! (a dot on each duplicate ACK), the receive-window edge in orange and SACKed ranges as
//! purple bars. Hovering a mark shows its frame.
//!
//! The SACK blocks the packet records do not keep are read again from the capture file
//! (`sack_blocks`); standard input cannot be read twice, so its graph has none (said
//! in the picture).

use super::diagram::xml_escape;
use super::seqgraph::{self, DirGraph, Sacks, SegKind, SeqGraph};
use super::slice::Slice;
use crate::capture::{RawPacket, Source};
use crate::decode;
use crate::flow::Dir;
use crate::pipeline::Connection;
use std::fmt::Write;
use std::ops::ControlFlow;

/// The SACK blocks of `conn`'s packets, per frame, relative to the ISN of the data they
/// cover (empty when the capture cannot be read again).
pub fn sack_blocks(source: &Source, conn: &Connection) -> Sacks {
    let mut out = Sacks::new();
    let Some(pkts) = conn.summary.as_ref().and_then(|s| s.packets.as_ref()) else {
        return out;
    };
    let rel_ack: std::collections::HashMap<u64, u32> = pkts
        .iter()
        .filter(|p| p.flags.ack())
        .map(|p| (p.frame, p.ack))
        .collect();
    let mut feed = |p: &RawPacket<'_>| {
        let Some(&rel) = rel_ack.get(&p.index) else {
            return ControlFlow::Continue(());
        };
        let dd = decode::decode(p.linktype, p.data, p.orig_len);
        if let Some(seg) = dd.tcp.as_ref().filter(|s| !s.partial_header) {
            let blocks = seg.options.sack_blocks();
            if !blocks.is_empty() {
                // The ACK's raw and relative values give the other side's ISN.
                let base = seg.ack.wrapping_sub(rel);
                let v = blocks
                    .iter()
                    .map(|(l, r)| (l.wrapping_sub(base), r.wrapping_sub(base)))
                    .collect();
                out.insert(p.index, v);
            }
        }
        ControlFlow::Continue(())
    };
    if !matches!(source, Source::Stdin) {
        // A failure leaves the graph without SACK bars; the rest is drawn.
        let _ = crate::stream::read_frames(source, conn, &mut feed);
    }
    out
}

/// The SVG graph of `c` inside `slice`.
pub fn render_svg(c: &Connection, sacks: &Sacks, slice: Slice) -> Result<String, String> {
    let pkts = c
        .summary
        .as_ref()
        .and_then(|s| s.packets.as_deref())
        .unwrap_or(&[]);
    slice
        .select(pkts)
        .map_err(|e| format!("connection {}: {e}", c.id))?;
    let g = seqgraph::build(pkts, sacks, slice);
    let panels = panels(&g);
    let h = TOP + panels.len() as u32 * PANEL_H + 60;
    let mut o = String::new();
    o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" font-family=\"monospace\" font-size=\"12\">"
    );
    let title = format!(
        "Sequence numbers over time, connection {}: {} to {}{}",
        c.id,
        c.client,
        c.server,
        match slice {
            Slice::All => String::new(),
            s => format!(" ({s})"),
        }
    );
    let _ = writeln!(o, "  <title>{}</title>", xml_escape(&title));
    o.push_str("  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let _ = writeln!(
        o,
        "  <text x=\"{L}\" y=\"24\" font-weight=\"bold\">{}</text>",
        xml_escape(&title)
    );
    for (i, d) in panels.iter().enumerate() {
        panel(c, d, TOP + i as u32 * PANEL_H, &mut o);
    }
    legend(h - 30, sacks.is_empty(), &mut o);
    o.push_str("</svg>\n");
    Ok(o)
}

/// The directions worth a panel: those sending data, else those sending anything.
fn panels(g: &SeqGraph) -> Vec<&DirGraph> {
    let data = |d: &&DirGraph| {
        d.segments
            .iter()
            .any(|s| !matches!(s.kind, SegKind::Syn | SegKind::Fin))
    };
    let with: Vec<&DirGraph> = g.dirs.iter().filter(data).collect();
    if with.is_empty() {
        g.dirs.iter().filter(|d| !d.segments.is_empty()).collect()
    } else {
        with
    }
}

const W: u32 = 1000;
const L: u32 = 100;
const PW: u32 = 860;
const PH: u32 = 360;
const PANEL_H: u32 = 440;
const TOP: u32 = 50;

/// Decimals that tell ticks `step` seconds apart from each other.
fn decimals(step: f64) -> usize {
    if step <= 0.0 {
        return 6;
    }
    ((-step.log10()).ceil().max(0.0) as usize + 1).min(6)
}

struct Scale {
    t0: f64,
    t1: f64,
    s0: u64,
    s1: u64,
    top: u32,
}

impl Scale {
    fn x(&self, t: f64) -> f64 {
        let w = (self.t1 - self.t0).max(1e-9);
        f64::from(L) + (t - self.t0) / w * f64::from(PW)
    }
    fn y(&self, s: u64) -> f64 {
        let h = (self.s1 - self.s0).max(1) as f64;
        f64::from(self.top + PH) - (s.saturating_sub(self.s0)) as f64 / h * f64::from(PH)
    }
}

fn panel(c: &Connection, d: &DirGraph, top: u32, o: &mut String) {
    let (from, to) = match d.dir {
        Dir::Client => (
            format!("client {}", c.client),
            format!("server {}", c.server),
        ),
        Dir::Server => (
            format!("server {}", c.server),
            format!("client {}", c.client),
        ),
    };
    let head = format!(
        "data {from} → {to}: {} new bytes in {} segments, {} retransmitted",
        d.new_bytes(),
        d.segments.len(),
        d.retransmissions()
    );
    let _ = writeln!(
        o,
        "  <text x=\"{L}\" y=\"{}\">{}</text>",
        top + 4,
        xml_escape(&head)
    );
    let (Some((t0, t1)), Some((s0, s1))) = (d.time_span(), d.seq_span()) else {
        return;
    };
    let sc = Scale {
        t0,
        t1,
        s0,
        s1,
        top: top + 20,
    };
    axes(&sc, o);
    step_line(&sc, d.acks.iter().map(|a| (a.t, a.ack)), "#008000", o);
    step_line(
        &sc,
        d.acks.iter().map(|a| (a.t, a.window_edge.min(s1))),
        "#d08000",
        o,
    );
    if let Some(w) = d.window_clipped() {
        let _ = writeln!(
            o,
            "  <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#d08000\">window edge above the top (up to seq {w})</text>",
            L + PW - 4,
            top + 34
        );
    }
    for a in d.acks.iter().filter(|a| a.dup.is_some()) {
        let _ = writeln!(
            o,
            "  <circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#008000\"><title>frame {}: dup ACK #{} of {}</title></circle>",
            sc.x(a.t),
            sc.y(a.ack),
            a.frame,
            a.dup.unwrap_or(0),
            a.ack
        );
    }
    for s in &d.sacks {
        let _ = writeln!(
            o,
            "  <line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#8000c0\" stroke-width=\"3\" opacity=\"0.6\"><title>frame {}: SACK {}-{}</title></line>",
            sc.y(s.left),
            sc.y(s.right),
            s.frame,
            s.left,
            s.right,
            x = sc.x(s.t) + 3.0
        );
    }
    for s in &d.segments {
        segment(&sc, s, o);
    }
}

fn axes(sc: &Scale, o: &mut String) {
    let (x0, y0, y1) = (L, sc.top + PH, sc.top);
    let _ = writeln!(
        o,
        "  <rect x=\"{L}\" y=\"{y1}\" width=\"{PW}\" height=\"{PH}\" fill=\"none\" stroke=\"black\"/>"
    );
    let dec = decimals((sc.t1 - sc.t0) / 5.0);
    for i in 0..=5u32 {
        let t = sc.t0 + (sc.t1 - sc.t0) * f64::from(i) / 5.0;
        let x = sc.x(t);
        let s = sc.s0 + (sc.s1 - sc.s0) * u64::from(i) / 5;
        let y = sc.y(s);
        let _ = writeln!(
            o,
            "  <line x1=\"{x:.1}\" y1=\"{y0}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"black\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{t:.dec$}</text>",
            y0 + 5,
            y0 + 18
        );
        let _ = writeln!(
            o,
            "  <line x1=\"{}\" y1=\"{y:.1}\" x2=\"{x0}\" y2=\"{y:.1}\" stroke=\"black\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{s}</text>",
            x0 - 5,
            x0 - 8,
            y + 4.0
        );
    }
    let _ = writeln!(
        o,
        "  <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">time (s since the connection's first packet)</text>",
        L + PW / 2,
        y0 + 34
    );
    let _ = writeln!(
        o,
        "  <text x=\"10\" y=\"{}\" fill=\"#555\">seq</text>",
        y1 - 6
    );
}

/// A step line through `pts`: flat until the next point's time, then up (or down).
fn step_line(sc: &Scale, pts: impl Iterator<Item = (f64, u64)>, colour: &str, o: &mut String) {
    let mut d = String::new();
    let mut last: Option<u64> = None;
    for (t, v) in pts {
        let (x, y) = (sc.x(t), sc.y(v));
        match last {
            None => {
                let _ = write!(d, "{x:.1},{y:.1}");
            }
            Some(prev) => {
                let _ = write!(d, " {x:.1},{:.1} {x:.1},{y:.1}", sc.y(prev));
            }
        }
        last = Some(v);
    }
    if !d.is_empty() {
        let _ = writeln!(
            o,
            "  <polyline points=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.2\"/>"
        );
    }
}

fn segment(sc: &Scale, s: &seqgraph::Segment, o: &mut String) {
    let (colour, mark, what) = match s.kind {
        SegKind::Data => ("black", "", "data"),
        SegKind::Retransmission => ("#c00000", "R", "retransmission"),
        SegKind::FastRetransmission => ("#c00000", "FR", "fast retransmission"),
        SegKind::Syn => ("#0040c0", "SYN", "SYN"),
        SegKind::Fin => ("#0040c0", "FIN", "FIN"),
    };
    let (x, ya, yb) = (sc.x(s.t), sc.y(s.seq), sc.y(s.end));
    let _ = writeln!(
        o,
        "  <path d=\"M{:.1},{ya:.1} H{:.1} M{x:.1},{ya:.1} V{yb:.1} M{:.1},{yb:.1} H{:.1}\" stroke=\"{colour}\" fill=\"none\"><title>frame {}: {what} {}-{}</title></path>",
        x - 2.0,
        x + 2.0,
        x - 2.0,
        x + 2.0,
        s.frame,
        s.seq,
        s.end
    );
    if !mark.is_empty() {
        let _ = writeln!(
            o,
            "  <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{colour}\">{mark}</text>",
            yb - 3.0
        );
    }
}

fn legend(y: u32, no_sacks: bool, o: &mut String) {
    let items = [
        ("black", "segment, first sent"),
        ("#c00000", "R resent, FR fast retransmit"),
        ("#008000", "ACK line, • dup ACK"),
        ("#d08000", "window edge"),
        ("#8000c0", "SACKed"),
    ];
    let mut x = L;
    for (colour, text) in items {
        let _ = writeln!(
            o,
            "  <rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"4\" fill=\"{colour}\"/><text x=\"{}\" y=\"{y}\">{}</text>",
            y - 5,
            x + 16,
            xml_escape(text)
        );
        x += 20 + 7 * text.chars().count() as u32 + 12;
    }
    if no_sacks {
        let _ = writeln!(
            o,
            "  <text x=\"{L}\" y=\"{}\" fill=\"#555\">no SACK blocks in this capture (or it could not be read again)</text>",
            y + 16
        );
    }
}
