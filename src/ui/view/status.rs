//! The status bar: filter, loading, playhead and speed, quiz score, messages and
//! warnings, the source and its counts.

use crate::escape::escape;
use crate::tcp::handshake::Outcome;
use crate::ui::app::{App, Screen};
use crate::ui::playback::SPEEDS;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
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
            .and_then(|i| app.data.as_ref().and_then(|d| d.conns.get(i))),
    };
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

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let mut spans: Vec<Span> = Vec::new();
    if app.table.filter_editing || !app.table.filter.is_empty() {
        spans.push(Span::styled(
            format!(
                " /{}{} ",
                escape(&app.table.filter),
                if app.table.filter_editing { "▏" } else { "" }
            ),
            th.highlight(),
        ));
    }
    let (pk, nc) = app
        .data
        .as_ref()
        .map_or((0, 0), |d| (d.stats.packets, d.conns.len()));
    if let (Some(p), Some(_)) = (app.loading, app.data.as_ref()) {
        // The table fills in while the rest of the file is read.
        spans.push(Span::styled(
            format!(
                " loading{} {} packets {:.0}/s │",
                p.ratio()
                    .map_or(String::new(), |r| format!(" {:.0}%", r * 100.0)),
                p.packets,
                p.rate_pps()
            ),
            th.highlight(),
        ));
    }
    let ph = match app.play.playhead {
        None => " playhead: end".to_string(),
        Some(fr) => format!(" playhead: frame {fr}/{pk}"),
    };
    spans.push(Span::styled(ph, th.warn()));
    spans.push(Span::raw(format!(
        " {} x{}",
        if app.play.playing { "▶" } else { "⏸" },
        SPEEDS[app.play.speed]
    )));
    if app.present {
        spans.push(Span::raw(" │ presenter"));
    }
    if let Some(q) = crate::ui::quiz::status(app) {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(q, th.highlight()));
    }
    if let Some(m) = &app.message {
        spans.push(Span::raw(format!(" │ {m}")));
    }
    for w in warnings(app) {
        spans.push(Span::styled(format!(" │ ⚠ {w}"), th.anomaly()));
    }
    spans.push(Span::styled(
        format!(
            " │ {} │ {pk} packets │ {nc} conns │ ? help",
            escape(&app.source)
        ),
        th.dim(),
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
