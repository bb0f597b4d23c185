//! The human-readable report: one row per connection as it finishes (with `--packets`,
//! its packets under it), then a summary of the capture.
//!
//! Columns are sized from the first rows (up to `Options::sample` of them are held back
//! and measured), then fitted into `Options::width`: padding of number columns goes
//! first, then IPv6 endpoints are shortened with `…` (the port is kept), the separators
//! narrow, long handshake names are shortened, and last whole columns are left out
//! (HANDSHAKE, PKTS C/S, DURATION, iRTT ms: the summary says which). Numbers are never
//! cut: a number wider than its column pushes the rest of its line right until there is
//! room. ANALYSIS, the last column, wraps onto continuation lines at its commas.

use super::grid::{self, Line, Paint, width};
use super::packets;
use crate::pipeline::{CaptureStats, Connection};
use std::io::{self, Write};

/// How the table is laid out.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Columns to fit into; `None`: every column in full (`--wide`; piped output).
    pub width: Option<usize>,
    /// ANSI colours: connection states, analysis flags.
    pub color: bool,
    /// Rows held back to size the columns before the first is written; 0 writes each
    /// row at once in default widths (a live capture's table).
    pub sample: usize,
}

/// Rows `report` measures before writing the first.
pub const SAMPLE_ROWS: usize = 64;

const ID: usize = 0;
const CLIENT: usize = 1;
const SERVER: usize = 2;
const APP: usize = 3;
const STATE: usize = 4;
const HS: usize = 5;
const IRTT: usize = 6;
const DUR: usize = 7;
const PKTS: usize = 8;
const BYTES: usize = 9;
const HTTP: usize = 10;
const ANALYSIS: usize = 11;
const N: usize = 12;

const HEADS: [&str; N] = [
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
    "ANALYSIS",
];
/// The headers of columns narrowed below their full header's width.
const SHORT: [&str; N] = [
    "ID", "CLIENT", "SERVER", "APP", "STATE", "HSHAKE", "iRTT", "DUR", "PKTS", "BYTES", "HTTP",
    "ANALYSIS",
];
const RIGHT: [bool; N] = [
    true, false, false, false, false, false, true, true, true, true, true, false,
];
/// Widths that hold the usual values whole (an IPv4 endpoint, 99,999 connections): the
/// columns' size while more rows may come than were measured.
const ROOMY: [usize; N] = [5, 21, 21, 8, 6, 22, 9, 9, 11, 17, 6, 8];
/// Columns left out, in this order, when the table cannot fit otherwise.
const DROP: [usize; 4] = [HS, PKTS, DUR, IRTT];
/// Columns whose padding goes first, then the endpoints, the room kept for ids to come
/// (they only grow), then the handshake name.
const SHRINK: [usize; 10] = [IRTT, DUR, PKTS, BYTES, HTTP, APP, STATE, CLIENT, ID, HS];
/// The least room ANALYSIS gets before it wraps.
const ANALYSIS_MIN: usize = 16;

/// One connection's cells, ready to lay out.
struct Row {
    cells: [String; N],
    analysis: Vec<String>,
    state_paint: Option<Paint>,
    packets: Option<Vec<String>>,
}

#[derive(Clone)]
struct Layout {
    w: [usize; N],
    shown: [bool; N],
    sep: usize,
    budget: Option<usize>,
    dropped: Vec<&'static str>,
    /// ANALYSIS goes on lines of its own under each row, under CLIENT (the narrowest
    /// layouts).
    below: bool,
}

impl Layout {
    fn starts(&self) -> [usize; N] {
        let mut s = [0; N];
        let mut at = 0;
        for (i, start) in s.iter_mut().enumerate() {
            if self.shown[i] {
                *start = at;
                at += self.w[i] + self.sep;
            }
        }
        s
    }

    /// Width of a row whose ANALYSIS has its least room (none when it goes below).
    fn total(&self, analysis_need: usize) -> usize {
        let before: usize = (0..ANALYSIS)
            .filter(|&i| self.shown[i])
            .map(|i| self.w[i] + self.sep)
            .sum();
        if self.below || !self.shown[ANALYSIS] {
            before - self.sep
        } else {
            before + analysis_need
        }
    }

    /// Where the ANALYSIS text starts.
    fn analysis_at(&self) -> usize {
        let s = self.starts();
        if self.below { s[CLIENT] } else { s[ANALYSIS] }
    }
}

#[derive(Default)]
pub struct Table {
    opts: Options,
    rows: u64,
    guessed: bool,
    pending: Vec<Row>,
    layout: Option<Layout>,
}

impl Table {
    pub fn new(opts: Options) -> Table {
        Table {
            opts,
            ..Table::default()
        }
    }

    pub fn row(&mut self, out: &mut dyn Write, c: &Connection) -> io::Result<()> {
        self.rows += 1;
        self.guessed |= c.role_guessed;
        let r = Row::of(c, &self.opts);
        if self.layout.is_some() {
            return self.write_row(out, &r);
        }
        self.pending.push(r);
        if self.pending.len() >= self.opts.sample {
            self.settle(out, true)?;
        }
        Ok(())
    }

    /// Size the columns from the rows held back, then write the header and them.
    fn settle(&mut self, out: &mut dyn Write, more: bool) -> io::Result<()> {
        let layout = fit(&self.pending, more, self.opts.width);
        let mut head = Line::new(false);
        let starts = layout.starts();
        for i in (0..N).filter(|&i| layout.shown[i] && !(layout.below && i == ANALYSIS)) {
            let name = if width(HEADS[i]) > layout.w[i] && i != ANALYSIS {
                SHORT[i]
            } else {
                HEADS[i]
            };
            head.cell(name, starts[i], layout.w[i], RIGHT[i], None);
        }
        writeln!(out, "{}", head.finish())?;
        if layout.below {
            let mut under = Line::new(false);
            under.cell(HEADS[ANALYSIS], layout.analysis_at(), 0, false, None);
            writeln!(out, "{}", under.finish())?;
        }
        self.layout = Some(layout);
        for r in std::mem::take(&mut self.pending) {
            self.write_row(out, &r)?;
        }
        Ok(())
    }

    fn write_row(&self, out: &mut dyn Write, r: &Row) -> io::Result<()> {
        let Some(l) = self.layout.as_ref() else {
            return Ok(());
        };
        let starts = l.starts();
        let mut line = Line::new(self.opts.color);
        for i in (0..ANALYSIS).filter(|&i| l.shown[i]) {
            let text = match i {
                CLIENT | SERVER => grid::shorten_endpoint(&r.cells[i], l.w[i]),
                HS => grid::shorten_name(&r.cells[i], l.w[i]),
                _ => r.cells[i].clone(),
            };
            let paint = if i == STATE { r.state_paint } else { None };
            line.cell(&text, starts[i], l.w[i], RIGHT[i], paint);
        }
        let at = l.analysis_at();
        let room = l
            .budget
            .map_or(usize::MAX, |b| b.saturating_sub(at).max(ANALYSIS_MIN));
        let mut wrapped = grid::wrap_items(&r.analysis, room).into_iter();
        if !l.below
            && let Some(first) = wrapped.next()
        {
            line.cell(&first, at, 0, false, Some(Paint::Yellow));
        }
        writeln!(out, "{}", line.finish())?;
        for more in wrapped {
            let mut cont = Line::new(self.opts.color);
            cont.cell(&more, at, 0, false, Some(Paint::Yellow));
            writeln!(out, "{}", cont.finish())?;
        }
        for p in r.packets.iter().flatten() {
            writeln!(out, "{p}")?;
        }
        Ok(())
    }

    /// Write what is still held back (a capture with fewer rows than the sample).
    fn flush(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.layout.is_none() && !self.pending.is_empty() {
            self.settle(out, false)?;
        }
        Ok(())
    }
}

impl Row {
    fn of(c: &Connection, opts: &Options) -> Row {
        let client = if c.role_guessed {
            format!("{}?", c.client)
        } else {
            c.client.to_string()
        };
        let (state, hs, irtt, analysis) = match &c.summary {
            Some(s) => (
                s.conn_state.to_string(),
                s.handshake.outcome.name().to_string(),
                s.handshake
                    .irtt_ms
                    .map_or("-".to_string(), |v| format!("{v:.3}")),
                analysis_notes(&s.analysis),
            ),
            None => ("-".into(), "-".into(), "-".into(), Vec::new()),
        };
        let state_paint = state_paint(&state);
        let cells = [
            c.id.to_string(),
            client,
            c.server.to_string(),
            c.app_label().to_string(),
            state,
            hs,
            irtt,
            format!("{:.3}", c.end_ts.secs_since(c.start_ts)),
            format!("{}/{}", c.packets.client, c.packets.server),
            format!("{}/{}", c.payload_bytes.client, c.payload_bytes.server),
            http_cell(&c.http),
            analysis.join(", "),
        ];
        let packets = c
            .summary
            .as_ref()
            .filter(|s| s.packets.is_some())
            .map(|_| packets::lines(c, opts.width, opts.color));
        Row {
            cells,
            analysis,
            state_paint,
            packets,
        }
    }
}

/// Zeek's connection states: a normal close green, a refusal or reset red, a
/// connection that never got going or was seen only in part yellow.
fn state_paint(state: &str) -> Option<Paint> {
    match state {
        "SF" => Some(Paint::Green),
        "REJ" => Some(Paint::Red),
        s if s.starts_with("RST") => Some(Paint::Red),
        "S0" | "SH" | "SHR" | "OTH" => Some(Paint::Yellow),
        _ => None,
    }
}

/// The columns' widths for `rows`, fitted into `budget`; `more`: rows beyond these will
/// come, so columns get room for the usual values where the budget allows.
fn fit(rows: &[Row], more: bool, budget: Option<usize>) -> Layout {
    let mut min = [0; N];
    let mut natural = [0; N];
    let mut soft = [0; N];
    for i in 0..N {
        let cells = rows.iter().map(|r| width(&r.cells[i]));
        natural[i] = cells.clone().fold(width(HEADS[i]), usize::max);
        let short = cells.clone().fold(width(SHORT[i]), usize::max);
        min[i] = match i {
            // An IPv6 endpoint may be shortened; an IPv4 one, all digits, may not.
            CLIENT | SERVER => rows
                .iter()
                .map(|r| {
                    let w = width(&r.cells[i]);
                    if r.cells[i].starts_with('[') {
                        w.min(16)
                    } else {
                        w
                    }
                })
                .fold(width(HEADS[i]), usize::max),
            HS => short.min(10),
            _ => short,
        };
        soft[i] = natural[i];
        if more && i != ANALYSIS {
            natural[i] = natural[i].max(ROOMY[i]);
        }
    }
    let analysis_need = natural[ANALYSIS].min(ANALYSIS_MIN);
    // A table with no analysis to show, and no more rows to come, leaves the column out
    // where room is short.
    let no_analysis = !more && rows.iter().all(|r| r.analysis.is_empty());
    let full = try_fit(&natural, &min, &[], 2, None, analysis_need, false);
    let hide_analysis = no_analysis && budget.is_some_and(|b| full.total(analysis_need) > b);
    let analysis_need = if hide_analysis { 0 } else { analysis_need };
    let mut last = None;
    // ANALYSIS beside the row with fewer columns, before it goes under the row.
    for below in [false, true] {
        for drop in 0..=DROP.len() {
            for sep in [2, 1] {
                let l = try_fit(
                    &natural,
                    &min,
                    &DROP[..drop],
                    sep,
                    budget,
                    analysis_need,
                    below,
                );
                if budget.is_none_or(|b| l.total(analysis_need) <= b) {
                    let mut l = l;
                    reclaim(&mut l, &soft, natural[ANALYSIS]);
                    return l;
                }
                last = Some(l);
            }
        }
    }
    last.unwrap_or_else(|| try_fit(&natural, &min, &[], 2, budget, analysis_need, false))
}

/// Room kept for values not measured yet, given back (down to the widths measured) to
/// an ANALYSIS that would otherwise wrap short of `want` columns.
fn reclaim(l: &mut Layout, soft: &[usize; N], want: usize) {
    let Some(b) = l.budget else {
        return;
    };
    if l.below || !l.shown[ANALYSIS] {
        return;
    }
    for i in [
        IRTT, DUR, PKTS, BYTES, HTTP, APP, STATE, HS, CLIENT, SERVER, ID,
    ] {
        let room = b.saturating_sub(l.analysis_at());
        if room >= want {
            break;
        }
        if l.shown[i] {
            l.w[i] -= (want - room).min(l.w[i].saturating_sub(soft[i]));
        }
    }
}

/// The widest layout with `dropped` left out and `sep` spaces between columns that fits
/// `budget`, shrinking columns in `SHRINK` order down to their `min`.
fn try_fit(
    natural: &[usize; N],
    min: &[usize; N],
    dropped: &[usize],
    sep: usize,
    budget: Option<usize>,
    analysis_need: usize,
    below: bool,
) -> Layout {
    let mut l = Layout {
        w: *natural,
        shown: [true; N],
        sep,
        budget,
        dropped: dropped.iter().map(|&i| HEADS[i]).collect(),
        below,
    };
    for &i in dropped {
        l.shown[i] = false;
    }
    // No analysis to show (`need` 0): the column is left out rather than squeeze others.
    l.shown[ANALYSIS] = analysis_need > 0;
    let Some(b) = budget else {
        return l;
    };
    for &i in &SHRINK {
        let excess = l.total(analysis_need).saturating_sub(b);
        if excess == 0 {
            break;
        }
        if i == CLIENT {
            // Both endpoints, the wider first, a column at a time.
            for _ in 0..excess {
                let k = if l.w[CLIENT] - min[CLIENT] >= l.w[SERVER] - min[SERVER] {
                    CLIENT
                } else {
                    SERVER
                };
                if l.w[k] == min[k] {
                    break;
                }
                l.w[k] -= 1;
            }
        } else if l.shown[i] {
            l.w[i] -= excess.min(l.w[i] - min[i]);
        }
    }
    l
}

pub fn summary(out: &mut dyn Write, st: &CaptureStats, t: &mut Table) -> io::Result<()> {
    t.flush(out)?;
    if t.guessed {
        writeln!(out, "? client/server guessed: opening SYN not captured")?;
    }
    if let Some(l) = t.layout.as_ref().filter(|l| !l.dropped.is_empty()) {
        let b = l.budget.unwrap_or(0);
        let mut items: Vec<String> = l.dropped.iter().map(|s| s.to_string()).collect();
        items[0] = format!(
            "hidden to fit {b} columns (--wide shows them): {}",
            items[0]
        );
        for line in grid::wrap_items(&items, b) {
            writeln!(out, "{line}")?;
        }
    }
    if t.rows > 0 {
        writeln!(out)?;
    }
    super::text_summary::write(out, st)
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

/// The analysis flags that fired, e.g. `retrans 3`, `dup-ack 5`.
fn analysis_notes(a: &crate::tcp::analysis::Counts) -> Vec<String> {
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
    v
}
