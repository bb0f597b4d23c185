//! The HTTP tab: the exchanges of the connection and the selected one's detail (timing
//! bar, anomalies, heads and bodies).

use crate::escape::escape;
use crate::http::Exchange;
use crate::ui::app::App;
use crate::ui::fit::{Piece, fit_pieces};
use crate::ui::http_detail::{DetailLine, Tone};
use crate::ui::layout;
use crate::ui::model::{app_name, decrypted_note, fmt_ms};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

#[cfg(test)]
fn exchange_summary(x: &Exchange, show_resp: bool) -> String {
    exchange_pieces(x, show_resp, None)
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The pieces of an exchange's list line; the timing goes first, then the size, then the
/// reason, then the URI (words of text, never a number, are what remains).
fn exchange_pieces(x: &Exchange, show_resp: bool, gave_up: Option<String>) -> Vec<Piece> {
    let mut v = Vec::new();
    match &x.request {
        Some(r) => {
            v.push(Piece::new(escape(&r.method), usize::MAX));
            v.push(Piece::new(escape(&r.uri), 5).with_short(4, "…"));
        }
        None => v.push(Piece::new("(no request seen)", usize::MAX)),
    }
    match (&x.response, show_resp) {
        (Some(r), true) => {
            v.push(Piece::new(format!("→ {}", r.status), usize::MAX));
            if !r.reason.is_empty() {
                v.push(Piece::new(escape(&r.reason), 3));
            }
            let mut size = format!("({} B", r.body_bytes_decoded);
            match x.ttfb_ms {
                Some(t) => {
                    v.push(Piece::new(format!("{size},"), 2).with_short(1, format!("{size})")));
                    v.push(Piece::new(format!("ttfb {})", fmt_ms(t)), 1));
                }
                None => {
                    size.push(')');
                    v.push(Piece::new(size, 2));
                }
            }
        }
        // Shown, yet none: lost (the anomaly says how) rather than still to come.
        (None, true) if !x.anomalies.is_empty() => {
            v.push(Piece::new("→ no response captured ⚠", usize::MAX))
        }
        // The connection is over without an answer: the client closed first.
        (None, true) if gave_up.is_some() => v.push(Piece::new(
            gave_up.unwrap_or_default().trim_start().to_string(),
            usize::MAX,
        )),
        _ => v.push(Piece::new("→ (waiting)", usize::MAX)),
    }
    v
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
        let msg = match c.tls_info() {
            Some(t) if !t.decrypted => "no HTTP visible: TLS, not decrypted (give the key log with --keylog FILE or SSLKEYLOGFILE)".to_string(),
            _ => format!("no HTTP in this connection (app: {})", app_name(c.app)),
        };
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), area);
        return;
    }
    let list_rows = layout::http_list_rows(app.size.1);
    let [list_a, detail_a] =
        Layout::vertical([Constraint::Length(list_rows as u16 + 1), Constraint::Min(1)])
            .areas(area);
    // Plaintext that came from TLS says so in words (NO_COLOR shows it too).
    let mut head = vec![Span::styled(format!("{n} exchange(s)"), th.header())];
    if let Some(d) = decrypted_note(c) {
        head.push(Span::raw("  "));
        head.push(Span::styled(format!("[{d}]"), th.state()));
    }
    let mut lines = vec![Line::from(head)];
    let off = layout::http_list_offset(app.conn_view.http_sel, app.size.1);
    for (i, x) in c.http.iter().enumerate().take(n).skip(off).take(list_rows) {
        let mut st = Style::default();
        if !x.anomalies.is_empty() {
            st = th.anomaly();
        }
        if i == app.conn_view.http_sel {
            st = st.add_modifier(Modifier::REVERSED);
        }
        // Only once the whole connection is shown (no spoiler while stepping).
        let gave_up = app
            .play
            .shows(c.last_frame)
            .then(|| crate::explain::gave_up(x))
            .flatten();
        let pieces = exchange_pieces(x, app.play.response_settled(x), gave_up);
        let room = usize::from(list_a.width).saturating_sub(4);
        lines.push(Line::styled(
            format!("{:>3} {}", i + 1, fit_pieces(&pieces, room)),
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
