//! The status bar: filter, loading, playhead and speed, quiz score, messages and
//! warnings, the source and its counts.

use crate::escape::escape;
use crate::tcp::handshake::Outcome;
use crate::ui::app::{App, Screen};
use crate::ui::fit::width;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Warnings for the status bar: the capture's, then the open connection's.
pub fn warnings(app: &App) -> Vec<String> {
    let mut w: Vec<String> = Vec::new();
    if let Some(d) = &app.data {
        w.extend(d.stats.warnings.iter().map(|s| escape(s)));
    }
    let c = match app.screen {
        Screen::Connection => app.conn(),
        Screen::Connections => app
            .selected_conn()
            .and_then(|i| app.data.as_ref().and_then(|d| d.conn(i))),
    };
    if let Some(d) = app.data.as_ref().filter(|d| d.compact > 0) {
        w.push(compact_note(d, app));
    }
    if let Some(c) = c
        && let Some(s) = &c.summary
    {
        if s.handshake.outcome == Outcome::NotCaptured {
            w.push("capture began mid-connection: handshake not seen".into());
        }
        if s.packets_not_kept > 0 {
            w.push(format!(
                "{} packets of this connection not kept",
                s.packets_not_kept
            ));
        }
    }
    w
}

/// A piece of the status bar, given up whole from step `drop_at` on; shown from step
/// `from` on (a shorter form of a piece given up at that step).
struct Part {
    text: String,
    style: Style,
    drop_at: usize,
    from: usize,
}

fn part(text: String, style: Style, drop_at: usize) -> Part {
    Part {
        text,
        style,
        drop_at,
        from: 0,
    }
}

/// The pieces kept in `w` cells: at each step the pieces of that step go, whole; `…`
/// marks that some did.
fn fit_parts(parts: Vec<Part>, w: usize) -> Vec<Span<'static>> {
    let steps = parts.iter().map(|p| p.drop_at).filter(|&s| s != usize::MAX);
    let last = steps.max().unwrap_or(0);
    for step in 0..=last {
        let kept: Vec<&Part> = parts
            .iter()
            .filter(|p| p.from <= step && step < p.drop_at)
            .collect();
        let n: usize = kept.iter().map(|p| width(&p.text)).sum::<usize>() + usize::from(step > 0);
        if n <= w || step == last {
            let mut v: Vec<Span> = kept
                .into_iter()
                .map(|p| Span::styled(p.text.clone(), p.style))
                .collect();
            if step > 0 {
                v.push(Span::raw("…"));
            }
            return v;
        }
    }
    Vec::new()
}

/// A piece that stays whatever the width.
const KEEP: usize = usize::MAX;

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let (pk, nc) = app
        .data
        .as_ref()
        .map_or((0, 0), |d| (d.stats.packets, d.len()));
    let mut parts = prompt_parts(app, th);
    parts.extend(loading_part(app, th));
    parts.extend(playback_parts(app, th, pk));
    parts.extend(note_parts(app, th));
    // Given up first: the counts, `? help`, a message, warnings; the source (a live
    // capture's state: capturing or stopped, drops) is a fact and stays longest.
    parts.push(part(format!(" │ {}", escape(&app.source)), th.dim(), 6));
    parts.push(part(format!(" │ {pk} packets │ {nc} conns"), th.dim(), 1));
    parts.push(part(" │ ? help".into(), th.dim(), 2));
    let spans = fit_parts(parts, usize::from(area.width));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// What is being typed, always shown: the filter (with a cursor while it is edited)
/// and the go-to-frame prompt.
fn prompt_parts(app: &App, th: Theme) -> Vec<Part> {
    let mut parts = Vec::new();
    if app.table.filter_editing || !app.table.filter.is_empty() {
        parts.push(part(
            format!(
                " /{}{} ",
                escape(&app.table.filter),
                if app.table.filter_editing { "▏" } else { "" }
            ),
            th.highlight(),
            KEEP,
        ));
    }
    if let Some(p) = crate::ui::app::goto_prompt(app) {
        parts.push(part(format!(" {p}▏ "), th.highlight(), KEEP));
    }
    parts
}

/// While the table fills in and the rest of the file is read: how far loading got.
fn loading_part(app: &App, th: Theme) -> Option<Part> {
    let (Some(p), Some(_)) = (app.loading, app.data.as_ref()) else {
        return None;
    };
    Some(part(
        format!(
            " loading{} {} packets {:.0}/s │",
            p.ratio()
                .map_or(String::new(), |r| format!(" {:.0}%", r * 100.0)),
            p.packets,
            p.rate_pps()
        ),
        th.highlight(),
        5,
    ))
}

/// Where playback is (`pk` packets in all): the playhead, playing or paused and at what
/// pace, presenter mode, the quiz score.
fn playback_parts(app: &App, th: Theme, pk: u64) -> Vec<Part> {
    let ph = match app.play.playhead {
        None => " playhead: end".to_string(),
        Some(fr) => format!(" playhead: frame {fr}/{pk}"),
    };
    let mut parts = vec![
        part(ph, th.warn(), KEEP),
        part(
            format!(
                " {} {}",
                if app.play.playing { "▶" } else { "⏸" },
                app.play.mode_text()
            ),
            Style::default(),
            KEEP,
        ),
    ];
    if app.present {
        parts.push(part(" │ presenter".into(), Style::default(), 4));
    }
    if let Some(q) = crate::ui::quiz::status(app) {
        parts.push(part(format!(" {q}"), th.highlight(), KEEP));
    }
    parts
}

/// The message of the last action, then the warnings ([`warnings`]); when those no
/// longer fit (80 columns), what compact records leave out is still said, shorter: a
/// number the table shows must not hide that it is partial.
fn note_parts(app: &App, th: Theme) -> Vec<Part> {
    let mut parts = Vec::new();
    if let Some(m) = &app.message {
        parts.push(part(format!(" │ {m}"), Style::default(), 3));
    }
    for w in warnings(app) {
        parts.push(part(format!(" │ ⚠ {w}"), th.anomaly(), 4));
    }
    if let Some(d) = app.data.as_ref().filter(|d| d.compact > 0) {
        parts.push(Part {
            text: format!(
                " │ ⚠ {}/{} compact: re-read when opened",
                d.compact,
                d.len()
            ),
            style: th.anomaly(),
            drop_at: 7,
            from: 4,
        });
    }
    parts
}

/// What compact records leave out, in words (`ui::compact`).
fn compact_note(d: &crate::ui::model::Loaded, app: &App) -> String {
    let opened = app.screen == Screen::Connection
        && app
            .conn_view
            .conn
            .is_some_and(|i| d.rows.get(i).is_some_and(|r| r.compact()));
    if opened {
        "kept compact: analysed again from the file when opened".into()
    } else {
        format!(
            "{}/{} conns compact: {}",
            d.compact,
            d.len(),
            crate::ui::compact::COMPACT_NOTE
        )
    }
}
