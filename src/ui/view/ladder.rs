//! The Ladder tab: one arrow a segment between the two lifelines, frame numbers and
//! times on the left, states where they change, the iRTT bracket over the handshake.
//! Every field is whole or absent: labels shrink by dropping fields ([`arrow_pieces`]),
//! times keep the digits that tell them from their neighbours, columns widen to fit.

use crate::explain::{arrow_label, flag_marker, states_before};
use crate::flow::Dir;
use crate::pipeline::Connection;
use crate::tcp::PacketRecord;
use crate::tcp::handshake::Outcome;
use crate::ui::app::App;
use crate::ui::fit::{self, Piece, fit_endpoint, fit_pieces, pad_whole, width};
use crate::ui::model::{fmt_delta, fmt_ms, state_path};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Column widths of the ladder, from the rows it shows.
struct LadderGeom {
    frame: usize,
    time: usize,
    /// 0: no delta column.
    delta: usize,
    cstate: usize,
    sstate: usize,
    arrow: usize,
    bracket: usize,
}

impl LadderGeom {
    fn left(&self) -> usize {
        self.frame + 1 + self.time + 1 + if self.delta > 0 { self.delta + 1 } else { 0 }
    }
}

/// What one row shows besides its arrow: time, states, its pieces of label.
struct RowText {
    time: String,
    delta: String,
    cstate: String,
    sstate: String,
}

/// The drop steps of an arrow label, in the fixed order of the issue: win, then len, then
/// ack, then flag words become letters; then the HTTP label (what the segment carries
/// says more than its ack number), then the analysis words shrink to `⚠`, then seq.
mod step {
    pub const WIN: usize = 1;
    pub const LEN: usize = 2;
    pub const ACK: usize = 3;
    pub const LETTERS: usize = 4;
    pub const HTTP: usize = 5;
    pub const MARKER: usize = 6;
    pub const SEQ: usize = 7;
    pub const LOSS: usize = 8;
}

/// The pieces of a segment's label. `loss`: the loss marker (`↺67`, `#2`) when the loss
/// analysis gives one; `http`: what HTTP the segment carries (`GET /x`, `body 1448 B`).
pub fn arrow_pieces(p: &PacketRecord, loss: Option<&str>, http: Option<&str>) -> Vec<Piece> {
    let mut v = Vec::new();
    if let Some(m) = flag_marker(p) {
        v.push(Piece::new(format!("⚠ {m}"), usize::MAX).with_short(step::MARKER, "⚠"));
    }
    if let Some(l) = loss {
        v.push(Piece::new(l, step::LOSS));
    }
    let flags = p.flags.to_string();
    v.push(
        Piece::new(flags.clone(), usize::MAX).with_short(step::LETTERS, fit::flag_letters(&flags)),
    );
    v.push(Piece::new(format!("seq={}", p.seq), step::SEQ));
    if p.flags.ack() {
        v.push(Piece::new(format!("ack={}", p.ack), step::ACK));
    }
    v.push(Piece::new(format!("len={}", p.len), step::LEN));
    let win = p.window_scaled.unwrap_or(u64::from(p.window));
    v.push(Piece::new(format!("win={win}"), step::WIN));
    if let Some(h) = http {
        // Several messages or chunks in one segment: the first alone once flags are letters.
        let first = h.split(" + ").next().unwrap_or(h);
        let mut piece = Piece::new(h, step::HTTP);
        if first != h {
            piece = piece.with_short(step::LETTERS, first);
        }
        v.push(piece);
    }
    debug_assert!(arrow_label(p).starts_with(&flags));
    v
}

/// The arrow for one segment, `w` cells wide, its label fitted whole.
pub fn arrow_text(p: &PacketRecord, w: usize) -> String {
    arrow_with(p, &arrow_pieces(p, None, None), w)
}

fn arrow_with(p: &PacketRecord, pieces: &[Piece], w: usize) -> String {
    let inner = w.saturating_sub(2);
    let label = fit_pieces(pieces, inner.saturating_sub(2));
    let n = width(&label);
    let dashes = inner.saturating_sub(n + 2);
    let left = dashes / 2;
    let right = dashes - left;
    let body = if n == 0 {
        "─".repeat(inner)
    } else {
        format!("{} {label} {}", "─".repeat(left), "─".repeat(right))
    };
    match p.dir {
        Dir::Client => format!("─{body}▶"),
        Dir::Server => format!("◀{body}─"),
    }
}

/// The loss marker of a packet for the ladder (`↺67`: a retransmission of frame 67;
/// `#2`: the second duplicate ACK), from the loss analysis.
fn loss_marker(_c: &Connection, p: &PacketRecord) -> Option<String> {
    crate::explain::loss_marker(p)
}

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(c) = app.conn() else { return };
    let all = app.packets();
    let pk = app.visible_packets();
    if all.is_empty() || pk.is_empty() {
        let msg = if all.is_empty() {
            "no packet records were kept for this connection"
        } else {
            "(the playhead is before this connection's first packet: press Space)"
        };
        let g = geom(app, &[], area.width);
        f.render_widget(
            Paragraph::new(vec![header(c, &g, th), Line::from(msg)]),
            area,
        );
        return;
    }
    let rows = usize::from(area.height.saturating_sub(1));
    let per = if app.present { 2 } else { 1 };
    let count = (rows / per).max(1);
    let offset = app.conn_view.pkt_offset.min(pk.len().saturating_sub(1));
    let shown: Vec<usize> = (offset..pk.len()).take(count).collect();
    // Times of the revealed packets only (the next one's would be a spoiler), aligned.
    let ts: Vec<i64> = pk.iter().map(|p| p.ts.0).collect();
    let times = fit::rel_times(&ts, offset..offset + shown.len());
    let texts: Vec<RowText> = shown
        .iter()
        .zip(times)
        .map(|(&i, t)| row_text(app, i, t))
        .collect();
    let g = geom(app, &texts, area.width);
    let mut lines: Vec<Line> = vec![header(c, &g, th)];
    // No spoiler: the bracket appears once the packet that closes it has been revealed.
    let bracket = Bracket::of(c).filter(|b| app.play.shows(b.ack));
    // What each segment carries (HTTP/1.x, HTTP/2 frames, TLS messages and records),
    // from the streams once rebuilt (see `load_wanted`); escaped there.
    let rebuilt = match app.open_stream() {
        Some(Ok(s)) => crate::report::labels::Rebuilt {
            records: Some(&s.tls_records),
            wire: Some(&s.wire.labels),
        },
        _ => Default::default(),
    };
    let labels = crate::report::labels::frame_labels(c, rebuilt);
    for (&i, t) in shown.iter().zip(&texts) {
        let p = &pk[i];
        let fl = labels.get(&p.frame);
        let mut pieces = arrow_pieces(p, loss_marker(c, p).as_deref(), None);
        if let Some(l) = fl {
            let mut piece = Piece::new(l.full.clone(), step::HTTP);
            if l.short != l.full {
                piece = piece.with_short(step::LETTERS, l.short.clone());
            }
            pieces.push(piece);
        }
        let stream = fl.and_then(|l| l.stream);
        let mut spans = arrow_row(app, &g, th, i, t, &pieces, stream);
        if let Some(b) = bracket.as_ref().and_then(|b| b.at(p.frame, g.bracket)) {
            spans.push(Span::styled(b, th.warn()));
        }
        lines.push(Line::from(spans));
        if app.present {
            lines.push(Line::from(vec![
                Span::raw(" ".repeat(g.left() + g.cstate)),
                Span::styled("│", th.client()),
                Span::raw(" ".repeat(g.arrow)),
                Span::styled("│", th.server()),
            ]));
        }
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// The columns for `rows` at width `w`: the left columns as wide as their widest text,
/// the state columns as wide as a two-step transition when the arrow keeps 20 cells.
fn geom(app: &App, rows: &[RowText], w: u16) -> LadderGeom {
    let w = usize::from(w);
    let maxw = |f: &dyn Fn(&RowText) -> &str, min: usize| {
        rows.iter().map(|r| width(f(r))).max().unwrap_or(0).max(min)
    };
    let last_frame = app.packets().last().map_or(1, |p| p.frame);
    let mut g = LadderGeom {
        frame: last_frame.to_string().len(),
        time: maxw(&|r| &r.time, 4),
        delta: if w >= 100 { maxw(&|r| &r.delta, 6) } else { 0 },
        cstate: maxw(&|r| &r.cstate, 12),
        sstate: maxw(&|r| &r.sstate, 12),
        arrow: 0,
        bracket: if w >= 100 { 16 } else { 2 },
    };
    let fixed = |g: &LadderGeom| g.left() + g.cstate + 2 + g.sstate + g.bracket;
    if w.saturating_sub(fixed(&g)) < 20 {
        // Narrow: a two-step transition shows its end state alone.
        g.cstate = g.cstate.min(12);
        g.sstate = g.sstate.min(12);
    }
    g.arrow = w.saturating_sub(fixed(&g)).max(8);
    g
}

/// The endpoints above their lifelines, each whole (or its port alone, or nothing).
fn header(c: &Connection, g: &LadderGeom, th: Theme) -> Line<'static> {
    let left_w = g.left() + g.cstate;
    let client = fit_endpoint(&c.client.to_string(), left_w.saturating_sub(5));
    let server = fit_endpoint(&c.server.to_string(), g.sstate + g.bracket);
    Line::from(vec![
        Span::styled("time", th.header()),
        Span::styled(
            pad_whole(&client, left_w.saturating_sub(4), true),
            th.client(),
        ),
        Span::raw(" ".repeat(g.arrow + 1)),
        Span::styled(server, th.server()),
    ])
}

/// A state cell: the state reached, through the states RFC 9293 passes on the way
/// (`FIN-WAIT-2→TIME-WAIT`), on the row where it changes; blank elsewhere.
fn state_cell(
    before: crate::tcp::state::TcpState,
    after: crate::tcp::state::TcpState,
    first: bool,
) -> String {
    if after == before && !first {
        return String::new();
    }
    let path: Vec<&str> = state_path(before, after).iter().map(|s| s.name()).collect();
    path.join("→")
}

fn row_text(app: &App, i: usize, time: String) -> RowText {
    let (all, pk) = (app.packets(), app.visible_packets());
    let p = &pk[i];
    let (bc, bs) = states_before(all, i);
    let (ac, as_) = p.states_after;
    let prev = if i == 0 { p.ts.0 } else { pk[i - 1].ts.0 };
    RowText {
        time,
        delta: fmt_delta(p.ts.0 - prev),
        cstate: state_cell(bc, ac, i == 0),
        sstate: state_cell(bs, as_, i == 0),
    }
}

/// Packet `i` (of those visible): frame, time and delta, the states where they change,
/// the arrow between the lifelines.
fn arrow_row(
    app: &App,
    g: &LadderGeom,
    th: Theme,
    i: usize,
    t: &RowText,
    pieces: &[Piece],
    stream: Option<u32>,
) -> Vec<Span<'static>> {
    let p = &app.visible_packets()[i];
    let mut st = super::packets::packet_style(th, p, i == app.conn_view.pkt_sel);
    // An HTTP/2 frame's arrow takes its stream's colour (the label says `s1` as well).
    if let Some(id) = stream.filter(|_| p.analysis.is_empty()) {
        st = st.patch(th.stream(id));
    }
    let mut left = format!(
        "{:>fw$} {:>tw$}",
        p.frame,
        t.time,
        fw = g.frame,
        tw = g.time
    );
    if g.delta > 0 {
        left.push_str(&format!(" {:>dw$}", t.delta, dw = g.delta));
    }
    let cst = if width(&t.cstate) <= g.cstate {
        t.cstate.as_str()
    } else {
        last_state(&t.cstate)
    };
    let sst = if width(&t.sstate) <= g.sstate {
        t.sstate.as_str()
    } else {
        last_state(&t.sstate)
    };
    vec![
        Span::styled(pad_whole(&left, g.left() - 1, false), th.dim()),
        Span::raw(" "),
        Span::styled(pad_whole(cst, g.cstate, true), th.state()),
        Span::styled("│", th.client()),
        Span::styled(arrow_with(p, pieces, g.arrow), st),
        Span::styled("│", th.server()),
        Span::styled(pad_whole(sst, g.sstate, false), th.state()),
    ]
}

/// The state a `A→B` cell ends in.
fn last_state(cell: &str) -> &str {
    cell.rsplit('→').next().unwrap_or(cell)
}

/// The iRTT bracket from the (last) SYN to the ACK that completed the handshake (or the
/// RST that refused it).
struct Bracket {
    syn: u64,
    ack: u64,
    irtt_ms: Option<f64>,
}

impl Bracket {
    fn of(c: &Connection) -> Option<Bracket> {
        let h = &c.summary.as_ref()?.handshake;
        Some(Bracket {
            syn: h.syns.last()?.frame,
            ack: h
                .ack_frame
                .or(h.syn_ack_frame.filter(|_| h.outcome == Outcome::Refused))?,
            irtt_ms: h.irtt_ms,
        })
    }

    /// The bracket's piece beside frame `frame` in `w` cells: the iRTT whole or not at all.
    fn at(&self, frame: u64, w: usize) -> Option<String> {
        let b = if frame == self.syn {
            " ┐".to_string()
        } else if frame == self.ack {
            let full = format!(" ┘ iRTT {}", self.irtt_ms.map_or(String::new(), fmt_ms));
            if width(&full) <= w {
                full
            } else {
                " ┘".to_string()
            }
        } else if frame > self.syn && frame < self.ack {
            " │".to_string()
        } else {
            return None;
        };
        Some(b)
    }
}
