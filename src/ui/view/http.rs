//! The HTTP tab: the exchanges of the connection and the selected one's detail (timing
//! bar, anomalies, heads and bodies).

use crate::escape::escape;
use crate::http::Exchange;
use crate::ui::app::App;
use crate::ui::http_detail::{DetailLine, Tone};
use crate::ui::layout;
use crate::ui::model::{app_name, fmt_ms};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph};

fn exchange_summary(x: &Exchange, show_resp: bool) -> String {
    let req = x
        .request
        .as_ref()
        .map_or("(no request seen)".to_string(), |r| {
            format!("{} {}", escape(&r.method), escape(&r.uri))
        });
    let resp = match (&x.response, show_resp) {
        (Some(r), true) => format!(
            "→ {} {} ({} B{})",
            r.status,
            escape(&r.reason),
            r.body_bytes_decoded,
            x.ttfb_ms
                .map_or(String::new(), |t| format!(", ttfb {}", fmt_ms(t)))
        ),
        // Shown, yet none: lost (the anomaly says how) rather than still to come.
        (None, true) if !x.anomalies.is_empty() => "→ no response captured ⚠".to_string(),
        _ => "→ (waiting)".to_string(),
    };
    format!("{req} {resp}")
}

/// The style of a tone of the detail.
fn style(th: Theme, t: Tone) -> Style {
    match t {
        Tone::State => th.state(),
        Tone::Warn => th.warn(),
        Tone::Client => th.client(),
        Tone::ClientHead => th.client().add_modifier(Modifier::BOLD),
        Tone::Server => th.server(),
        Tone::ServerHead => th.server().add_modifier(Modifier::BOLD),
        Tone::Anomaly => th.anomaly(),
        Tone::Dim => th.dim(),
    }
}

fn line(th: Theme, l: DetailLine) -> Line<'static> {
    match l {
        DetailLine::Raw(s) => Line::raw(s),
        DetailLine::Styled(t, s) => Line::styled(s, style(th, t)),
        DetailLine::Spans(v) => Line::from(
            v.into_iter()
                .map(|(t, s)| Span::styled(s, style(th, t)))
                .collect::<Vec<_>>(),
        ),
    }
}

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(c) = app.conn() else { return };
    let n = app.visible_exchanges();
    if c.http.is_empty() {
        f.render_widget(
            Paragraph::new(format!(
                "no HTTP in this connection (app: {})",
                app_name(c.app)
            )),
            area,
        );
        return;
    }
    let list_rows = layout::http_list_rows(app.size.1);
    let [list_a, detail_a] =
        Layout::vertical([Constraint::Length(list_rows as u16 + 1), Constraint::Min(1)])
            .areas(area);
    let mut lines = vec![Line::styled(format!("{n} exchange(s)"), th.header())];
    let off = layout::http_list_offset(app.conn_view.http_sel, app.size.1);
    for (i, x) in c.http.iter().enumerate().take(n).skip(off).take(list_rows) {
        let mut st = Style::default();
        if !x.anomalies.is_empty() {
            st = th.anomaly();
        }
        if i == app.conn_view.http_sel {
            st = st.add_modifier(Modifier::REVERSED);
        }
        lines.push(Line::styled(
            format!(
                "{:>3} {}",
                i + 1,
                exchange_summary(x, app.play.response_settled(x))
            ),
            st,
        ));
    }
    f.render_widget(Paragraph::new(lines), list_a);
    if app.selected_exchange().is_none() {
        f.render_widget(
            Paragraph::new("(no exchange yet at the playhead)"),
            detail_a,
        );
        return;
    }
    let d: Vec<Line> = app
        .http_detail(detail_a.width)
        .into_iter()
        .map(|l| line(th, l))
        .collect();
    // `update` keeps the scroll within the detail; this only guards one that shrank since.
    let scroll = app.conn_view.scroll.min(d.len().saturating_sub(1)) as u16;
    f.render_widget(
        Paragraph::new(Text::from(d))
            .scroll((scroll, 0))
            .block(Block::default().borders(Borders::TOP)),
        detail_a,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response lost in a gap is said to be missing, never "waiting" for ever.
    #[test]
    fn a_lost_response_is_not_waiting() {
        let mut x = Exchange::default();
        assert_eq!(exchange_summary(&x, true), "(no request seen) → (waiting)");
        x.anomalies.push(crate::http::Anomaly::HeadLost {
            side: crate::flow::Dir::Server,
            gap: crate::http::CaptureGap {
                len: 50,
                rel_seq: 895,
            },
            estimated: false,
        });
        assert_eq!(
            exchange_summary(&x, true),
            "(no request seen) → no response captured ⚠"
        );
        // Not yet revealed by playback: no spoiler.
        assert_eq!(exchange_summary(&x, false), "(no request seen) → (waiting)");
    }
}
