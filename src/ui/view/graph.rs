//! The Graph tab (`6`): the sequence-number/time graph of the open connection
//! (`report::seqgraph`, as `diagram --graph seq` draws it in SVG) for the direction that
//! carries the most data: each segment a bar (`R` above a retransmission, `F` above a
//! fast retransmit, in red), the ACK line (green), the receive-window edge (yellow) and
//! SACKed ranges (magenta).
//!
//! It follows the playhead: only packets up to it are drawn, and the time window ends at
//! it. ↓ zooms in (each step halves the window), ↑ zooms out; the zoom level is the
//! tab's scroll (`ConnView::scroll`, kept within `ZOOM_LEVELS` by `App`). Axis numbers
//! are printed whole or not at all.

use crate::capture::Source;
use crate::flow::Dir;
use crate::report::seqgraph::{self, DirGraph, Sacks, SegKind};
use crate::report::seqsvg;
use crate::report::slice::{Slice, TimeRange};
use crate::ui::app::App;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::widgets::canvas::{Canvas, Line as CLine};
use std::sync::{Arc, Mutex};

/// Zoom steps: level `z` shows 1/2^z of the connection's duration.
use crate::ui::layout::GRAPH_ZOOM_LEVELS as ZOOM_LEVELS;

/// SACK blocks of the last connection graphed (reading them means reading the file
/// again, once per connection, not once per frame drawn).
fn sacks_of(app: &App, c: &crate::pipeline::Connection) -> Arc<Sacks> {
    type Cache = Option<(String, u64, Arc<Sacks>)>;
    static CACHE: Mutex<Cache> = Mutex::new(None);
    let mut g = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((src, id, s)) = g.as_ref()
        && *src == app.source
        && *id == c.id
    {
        return s.clone();
    }
    let source = Source::from_arg(&app.source);
    // A live session's name is an interface, not a file.
    let readable = match &source {
        Source::File(p) => p.is_file(),
        Source::Stdin | Source::Merged(_) => false,
    };
    let s = Arc::new(if readable {
        seqsvg::sack_blocks(&source, c)
    } else {
        Sacks::new()
    });
    *g = Some((app.source.clone(), c.id, s.clone()));
    s
}

/// The time window shown at zoom `z` of a connection lasting `dur` seconds, ending at
/// `now` (the playhead's time).
pub fn window(dur: f64, now: f64, z: usize) -> (f64, f64) {
    let w = dur / f64::from(1u32 << z.min(30));
    let to = now.max(w).min(dur.max(w));
    ((to - w).max(0.0), to)
}

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(c) = app.conn() else { return };
    let all = app.packets();
    let pk = app.visible_packets();
    let [head, canvas, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let (Some(first), Some(last)) = (all.first(), all.last()) else {
        f.render_widget(Paragraph::new("no packet records to graph"), area);
        return;
    };
    let dur = last.ts.secs_since(first.ts).max(1e-6);
    let now = pk.last().map_or(0.0, |p| p.ts.secs_since(first.ts));
    let z = app.conn_view.scroll.min(ZOOM_LEVELS - 1);
    let (t0, t1) = window(dur, now, z);
    let sacks = sacks_of(app, c);
    let slice = Slice::Time(TimeRange { from: t0, to: t1 });
    let g = seqgraph::build(pk, &sacks, slice);
    let d = busiest(&g.dirs);
    let who = match d.dir {
        Dir::Client => "client → server",
        Dir::Server => "server → client",
    };
    let title = format!(
        "{who} data · zoom ×{} (↓ in, ↑ out) · {} segments, {} resent",
        1u32 << z,
        d.segments.len(),
        d.retransmissions()
    );
    f.render_widget(Paragraph::new(fit(&title, head.width)), head);
    let Some((s0, s1)) = d.seq_span() else {
        f.render_widget(
            Paragraph::new("(nothing sent in this window yet: Space steps, ↑ zooms out)"),
            canvas,
        );
        return;
    };
    draw(f, d, th, canvas, (t0, t1), (s0, s1));
    let axis = format!(
        "t {t0:.6}–{t1:.6} s · seq {s0}–{s1} · R resent, F fast retransmit, ACK, window, SACK"
    );
    f.render_widget(Paragraph::new(fit(&axis, foot.width)).style(th.dim()), foot);
}

/// The whole text, or nothing of it: a number is never cut.
fn fit(s: &str, w: u16) -> Line<'static> {
    if s.chars().count() <= usize::from(w) {
        return Line::from(s.to_string());
    }
    // Drop whole ` · ` parts from the end until it fits.
    let mut parts: Vec<&str> = s.split(" · ").collect();
    while parts.len() > 1 {
        parts.pop();
        let t = format!("{} …", parts.join(" · "));
        if t.chars().count() <= usize::from(w) {
            return Line::from(t);
        }
    }
    Line::from("")
}

/// The direction with the most data (the download of an HTTP GET).
fn busiest(dirs: &[DirGraph; 2]) -> &DirGraph {
    let bytes = |d: &DirGraph| d.segments.iter().map(|s| s.end - s.seq).sum::<u64>();
    if bytes(&dirs[1]) >= bytes(&dirs[0]) {
        &dirs[1]
    } else {
        &dirs[0]
    }
}

fn draw(f: &mut Frame, d: &DirGraph, th: Theme, area: Rect, t: (f64, f64), s: (u64, u64)) {
    let col = |c: Color| if th.color { c } else { Color::Reset };
    let (green, yellow, red, magenta) = (
        col(Color::Green),
        col(Color::Yellow),
        col(Color::Red),
        col(Color::Magenta),
    );
    let canvas = Canvas::default()
        .marker(Marker::Braille)
        .x_bounds([t.0, t.1.max(t.0 + 1e-9)])
        .y_bounds([s.0 as f64, s.1 as f64])
        .paint(|ctx| {
            let mut prev: Option<(f64, u64, u64)> = None;
            for a in &d.acks {
                if let Some((pt, pa, pw)) = prev {
                    for (from, to, c) in [(pa, a.ack, green), (pw, a.window_edge, yellow)] {
                        ctx.draw(&CLine::new(pt, from as f64, a.t, from as f64, c));
                        ctx.draw(&CLine::new(a.t, from as f64, a.t, to as f64, c));
                    }
                }
                prev = Some((a.t, a.ack, a.window_edge));
            }
            for r in &d.sacks {
                ctx.draw(&CLine::new(
                    r.t,
                    r.left as f64,
                    r.t,
                    r.right as f64,
                    magenta,
                ));
            }
            ctx.layer();
            for sg in &d.segments {
                let c = if sg.kind.is_retransmission() {
                    red
                } else {
                    Color::Reset
                };
                ctx.draw(&CLine::new(sg.t, sg.seq as f64, sg.t, sg.end as f64, c));
                let mark = match sg.kind {
                    SegKind::Retransmission => Some("R"),
                    SegKind::FastRetransmission => Some("F"),
                    _ => None,
                };
                if let Some(m) = mark {
                    ctx.print(
                        sg.t,
                        sg.end as f64,
                        Line::styled(m, Style::default().fg(red)),
                    );
                }
            }
        });
    f.render_widget(canvas, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_ends_at_the_playhead_and_halves_per_level() {
        assert_eq!(window(8.0, 8.0, 0), (0.0, 8.0));
        assert_eq!(window(8.0, 6.0, 1), (2.0, 6.0));
        // Early on, the window starts at 0 rather than before the first packet.
        assert_eq!(window(8.0, 1.0, 1), (0.0, 4.0));
        assert_eq!(window(8.0, 8.0, 3), (7.0, 8.0));
    }

    #[test]
    fn text_is_whole_or_dropped_by_parts() {
        let s = "a 12345 · b 678 · c 9";
        assert_eq!(fit(s, 40).to_string(), s);
        assert_eq!(fit(s, 14).to_string(), "a 12345 …");
        assert_eq!(fit(s, 5).to_string(), "");
    }
}
