//! The Lanes tab (issue 16): a connection's HTTP exchanges as lanes over time, a
//! waterfall: one row a stream (HTTP/2) or exchange (HTTP/1.x), from the request sent
//! (`▶`) through the wait (`·`) to the response's first and last byte (`█`), with its
//! stream id, method and path, status and total time. HTTP/2 rows overlap (multiplexing);
//! a keep-alive HTTP/1.1 connection's follow one another (one at a time).
//!
//! Times are from the first request; the playhead hides what it has not reached (a
//! response not yet seen is not drawn). Every number whole or absent.

use crate::escape::escape;
use crate::http::Exchange;
use crate::ts::Ts;
use crate::ui::app::App;
use crate::ui::fit::{pad_whole, whole, width};
use crate::ui::model::fmt_ms;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// One lane: when its request went, its response's first and last byte (as far as the
/// playhead shows them).
struct Lane {
    id: String,
    stream: Option<u32>,
    what: String,
    status: String,
    sent: Ts,
    sent_end: Ts,
    first: Option<Ts>,
    last: Option<Ts>,
}

fn lanes(app: &App, http: &[Exchange]) -> Vec<Lane> {
    let mut v: Vec<Lane> = http
        .iter()
        .enumerate()
        .filter_map(|(k, x)| {
            let r = x.request.as_ref()?;
            if !app.play.shows(r.meta.frame) {
                return None;
            }
            let resp = x.response.as_ref().filter(|s| app.play.shows(s.meta.frame));
            let stream = x.h2.as_ref().map(|h| h.stream_id);
            Some(Lane {
                id: stream.map_or(format!("#{}", k + 1), |s| format!("s{s}")),
                stream,
                what: escape(&format!("{} {}", r.method, r.uri)),
                status: resp.map_or("…".into(), |s| s.status.to_string()),
                sent: r.meta.ts,
                sent_end: if app.play.shows(r.meta.end_frame) {
                    r.meta.end_ts
                } else {
                    r.meta.ts
                },
                first: resp.map(|s| s.meta.ts),
                last: resp
                    .filter(|s| app.play.shows(s.meta.end_frame))
                    .map(|s| s.meta.end_ts),
            })
        })
        .collect();
    v.sort_by_key(|l| l.sent.0);
    v
}

/// Lanes that overlap in time: some request went before an earlier one was answered.
fn overlapping(v: &[Lane]) -> bool {
    let mut busy_until: Option<i64> = None;
    for l in v {
        if busy_until.is_some_and(|b| l.sent.0 < b) {
            return true;
        }
        let end = l.last.or(l.first).unwrap_or(l.sent_end).0;
        busy_until = Some(busy_until.map_or(end, |b| b.max(end)));
    }
    false
}

/// The heading: what the lanes show and whether they overlap.
fn heading(v: &[Lane], h2: bool) -> String {
    let n = v.len();
    match (h2, overlapping(v)) {
        (true, true) => {
            format!("HTTP/2: {n} streams on one connection, at the same time (multiplexed)")
        }
        (true, false) => format!("HTTP/2: {n} streams on one connection, one after another"),
        (false, true) => format!("HTTP/1.1: {n} exchanges, pipelined (answered in order)"),
        (false, false) => format!("HTTP/1.1: {n} exchanges on one connection, one at a time"),
    }
}

const LEGEND: &str = "▶ request sent  · waiting  █ response, first to last byte";

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(c) = app.conn() else { return };
    let w = usize::from(area.width);
    let v = lanes(app, &c.http);
    if v.is_empty() {
        let msg = if c.http.is_empty() {
            "no HTTP exchanges on this connection (TLS without keys: pass --keylog)"
        } else {
            "(the playhead is before the first request: press Space)"
        };
        f.render_widget(Paragraph::new(msg), area);
        return;
    }
    let h2 = v.iter().any(|l| l.stream.is_some());
    let t0 = v[0].sent;
    let t1 = v
        .iter()
        .map(|l| l.last.or(l.first).unwrap_or(l.sent_end).0)
        .max()
        .unwrap_or(t0.0)
        .max(t0.0 + 1);
    let span = (t1 - t0.0) as f64;
    let idw = v.iter().map(|l| width(&l.id)).max().unwrap_or(2);
    let whatw = v
        .iter()
        .map(|l| width(&l.what))
        .max()
        .unwrap_or(0)
        .min(w / 4);
    let totals: Vec<String> = v
        .iter()
        .map(|l| l.last.map_or(String::new(), |e| fmt_ms(e.ms_since(l.sent))))
        .collect();
    let mut totw = totals.iter().map(|t| width(t)).max().unwrap_or(0);
    let fixed = |tw: usize| idw + 1 + whatw + 1 + 3 + 1 + 2 + if tw > 0 { tw + 1 } else { 0 };
    if w.saturating_sub(fixed(totw)) < 20 {
        totw = 0;
    }
    let bw = w.saturating_sub(fixed(totw)).max(8);
    let mut lines = vec![Line::styled(cut(&heading(&v, h2), w), th.header())];
    let rows = usize::from(area.height).saturating_sub(3);
    let off = app.conn_view.scroll.min(v.len().saturating_sub(1));
    for (l, total) in v.iter().zip(&totals).skip(off).take(rows) {
        let st = match l.stream {
            Some(id) => th.stream(id),
            None => th.side_neutral(),
        };
        let mut spans = vec![
            Span::styled(format!("{:<idw$} ", l.id), st),
            Span::raw(pad_whole(&whole(&l.what, whatw), whatw, false) + " "),
            Span::raw(format!("{:>3} ", l.status)),
            Span::styled("│", th.dim()),
            Span::styled(bar(l, t0.0, span, bw), st),
            Span::styled("│", th.dim()),
        ];
        if totw > 0 {
            spans.push(Span::raw(format!(" {total:>totw$}")));
        }
        lines.push(Line::from(spans));
    }
    // The time axis under the bars: 0 and the span, whole or not at all.
    let lead = " ".repeat(idw + 1 + whatw + 1 + 4);
    let end = fmt_ms(span / 1e6);
    let gap = bw.saturating_sub(width(&end) + 1);
    lines.push(Line::styled(
        if bw > width(&end) + 2 {
            format!("{lead} 0{}{end}", " ".repeat(gap))
        } else {
            String::new()
        },
        th.dim(),
    ));
    lines.push(Line::styled(cut(LEGEND, w), th.dim()));
    f.render_widget(Paragraph::new(lines), area);
}

/// `s` whole, or cut between words with `…`.
fn cut(s: &str, w: usize) -> String {
    crate::ui::fit::cut_words(s, w)
}

/// The lane's bar in `bw` cells over `span` ns from `t0`.
fn bar(l: &Lane, t0: i64, span: f64, bw: usize) -> String {
    let at = |t: Ts| -> usize {
        let x = ((t.0 - t0) as f64 / span * (bw.saturating_sub(1)) as f64).round();
        (x.max(0.0) as usize).min(bw.saturating_sub(1))
    };
    let mut cells = vec![' '; bw];
    let s = at(l.sent);
    let se = at(l.sent_end).max(s);
    let end = match (l.first, l.last) {
        (Some(a), Some(b)) => Some((at(a).max(se), at(b).max(at(a)).max(se))),
        (Some(a), None) => Some((at(a).max(se), at(a).max(se))),
        _ => None,
    };
    let wait_to = end.map_or(bw, |(a, _)| a);
    for c in cells.iter_mut().take(wait_to).skip(se + 1) {
        *c = '·';
    }
    for c in cells.iter_mut().take(se + 1).skip(s) {
        *c = '─';
    }
    if let Some((a, b)) = end {
        for c in cells.iter_mut().take(b + 1).skip(a) {
            *c = '█';
        }
    }
    cells[s] = '▶';
    cells.into_iter().collect()
}
