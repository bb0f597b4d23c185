//! The Ladder tab: one arrow a segment between the two lifelines, states where they
//! change, the iRTT bracket over the handshake.

use crate::explain::{arrow_label, flag_marker, states_before};
use crate::flow::Dir;
use crate::pipeline::Connection;
use crate::tcp::PacketRecord;
use crate::tcp::handshake::Outcome;
use crate::ui::app::App;
use crate::ui::model::{fmt_delta, fmt_ms};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

struct LadderGeom {
    time: u16,
    state: u16,
    arrow: u16,
    bracket: u16,
}

fn ladder_geom(w: u16) -> LadderGeom {
    let time = if w >= 100 { 20 } else { 16 };
    let state = 12;
    let bracket = if w >= 100 { 14 } else { 2 };
    let arrow = w.saturating_sub(time + 2 * state + 4 + bracket).max(8);
    LadderGeom {
        time,
        state,
        arrow,
        bracket,
    }
}

fn pad(s: &str, w: usize, right: bool) -> String {
    let n = s.chars().count();
    if n >= w {
        s.chars().take(w).collect()
    } else if right {
        format!("{}{s}", " ".repeat(w - n))
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

/// The arrow for one segment, `w` cells wide.
pub fn arrow_text(p: &PacketRecord, w: usize) -> String {
    let mut label = arrow_label(p);
    if let Some(m) = flag_marker(p) {
        // The marker first: it is what the eye should catch when space runs out.
        label = format!("⚠ {m} {label}");
    }
    let inner = w.saturating_sub(2);
    let label: String = label.chars().take(inner.saturating_sub(2)).collect();
    let n = label.chars().count();
    let dashes = inner.saturating_sub(n + 2);
    let left = dashes / 2;
    let right = dashes - left;
    let body = format!("{} {label} {}", "─".repeat(left), "─".repeat(right));
    match p.dir {
        Dir::Client => format!("─{body}▶"),
        Dir::Server => format!("◀{body}─"),
    }
}

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(c) = app.conn() else { return };
    let all = app.packets();
    let pk = app.visible_packets();
    let g = ladder_geom(area.width);
    let mut lines: Vec<Line> = vec![header(c, &g, th)];
    if pk.is_empty() && !all.is_empty() {
        lines.push(Line::from(
            "(the playhead is before this connection's first packet: press Space)",
        ));
        f.render_widget(Paragraph::new(lines), area);
        return;
    }
    if all.is_empty() {
        lines.push(Line::from(
            "no packet records were kept for this connection",
        ));
        f.render_widget(Paragraph::new(lines), area);
        return;
    }
    let bracket = Bracket::of(c);
    let rows = usize::from(area.height.saturating_sub(1));
    let per = if app.present { 2 } else { 1 };
    let count = (rows / per).max(1);
    let offset = app.conn_view.pkt_offset.min(pk.len().saturating_sub(1));
    for (i, p) in pk.iter().enumerate().skip(offset).take(count) {
        let mut spans = arrow_row(app, &g, th, i);
        if let Some(b) = bracket.as_ref().and_then(|b| b.at(p.frame, &g)) {
            spans.push(Span::styled(format!(" {b}"), th.warn()));
        }
        lines.push(Line::from(spans));
        if app.present {
            lines.push(Line::from(vec![
                Span::raw(" ".repeat(usize::from(g.time + 1 + g.state))),
                Span::styled("│", th.client()),
                Span::raw(" ".repeat(usize::from(g.arrow))),
                Span::styled("│", th.server()),
            ]));
        }
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// The endpoints above their lifelines.
fn header(c: &Connection, g: &LadderGeom, th: Theme) -> Line<'static> {
    let left_w = usize::from(g.time + 1 + g.state + 1);
    Line::from(vec![
        Span::styled("time", th.header()),
        Span::styled(
            pad(&c.client.to_string(), left_w.saturating_sub(4), true),
            th.client(),
        ),
        Span::raw(pad("", usize::from(g.arrow), false)),
        Span::styled(
            pad(&c.server.to_string(), usize::from(g.state) + 2, false),
            th.server(),
        ),
    ])
}

/// Packet `i` (of those visible): time and delta, the states where they change, the
/// arrow between the lifelines.
fn arrow_row(app: &App, g: &LadderGeom, th: Theme, i: usize) -> Vec<Span<'static>> {
    let (all, pk) = (app.packets(), app.visible_packets());
    let p = &pk[i];
    let (bc, bs) = states_before(all, i);
    let (ac, as_) = p.states_after;
    let prev_ts = if i == 0 { p.ts } else { pk[i - 1].ts };
    let rel = p.ts.secs_since(all[0].ts);
    let time = if g.time >= 20 {
        format!("{rel:>10.6} {:>8}", fmt_delta(p.ts.0 - prev_ts.0))
    } else {
        format!("{rel:>8.4} {:>7}", fmt_delta(p.ts.0 - prev_ts.0))
    };
    let cst = if ac != bc || i == 0 { ac.name() } else { "" };
    let sst = if as_ != bs || i == 0 { as_.name() } else { "" };
    let st = super::packets::packet_style(th, p, i == app.conn_view.pkt_sel);
    vec![
        Span::styled(pad(&time, usize::from(g.time), false), th.dim()),
        Span::raw(" "),
        Span::styled(pad(cst, usize::from(g.state), true), th.state()),
        Span::styled("│", th.client()),
        Span::styled(arrow_text(p, usize::from(g.arrow)), st),
        Span::styled("│", th.server()),
        Span::styled(pad(sst, usize::from(g.state) + 1, false), th.state()),
    ]
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

    /// The bracket's piece beside frame `frame`, cut to one character when narrow.
    fn at(&self, frame: u64, g: &LadderGeom) -> Option<String> {
        let b = if frame == self.syn {
            "┐".to_string()
        } else if frame == self.ack {
            format!("┘ iRTT {}", self.irtt_ms.map_or(String::new(), fmt_ms))
        } else if frame > self.syn && frame < self.ack {
            "│".to_string()
        } else {
            return None;
        };
        Some(if g.bracket >= 10 {
            b
        } else {
            b.chars().take(1).collect()
        })
    }
}
