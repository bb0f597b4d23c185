//! The Stream tab: both directions' bytes as rebuilt from the file, escaped, gaps marked.

use crate::escape::escape;
use crate::stream::{StreamData, StreamLine};
use crate::ui::app::App;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    if app.conn().is_none() {
        return;
    }
    let s = match app.open_stream() {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            f.render_widget(Paragraph::new(escape(&e.msg)).style(th.warn()), area);
            return;
        }
        _ => {
            f.render_widget(
                Paragraph::new("rebuilding the streams from the file…"),
                area,
            );
            return;
        }
    };
    let mut lines: Vec<Line> = tls_note(app, s, th).into_iter().collect();
    let rows = usize::from(area.height.saturating_sub(1 + lines.len() as u16));
    lines.push(totals_line(s, area.width, th));
    // `update` keeps the scroll within the lines; this only guards lines that shrank since.
    let visible = s
        .lines
        .iter()
        .filter(|l| app.play.playhead.is_none_or(|f| l.frame <= f))
        .skip(app.conn_view.scroll.min(app.max_scroll()));
    let w = usize::from(area.width).saturating_sub(3).max(1);
    push_wrapped(&mut lines, visible, w, rows, th);
    if s.lines.is_empty() {
        lines.push(Line::styled(
            "(no payload bytes in either direction)",
            th.dim(),
        ));
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// What the bytes are when TLS is involved, in words (NO_COLOR shows it too): plaintext
/// that came from TLS says so; the records of a TLS connection not decrypted say that
/// they are ciphertext. None for plain TCP.
fn tls_note(app: &App, s: &StreamData, th: Theme) -> Option<Line<'static>> {
    let c = app.conn();
    match (s.decrypted, c.and_then(|c| c.tls_info())) {
        (true, _) => {
            let d = c
                .and_then(crate::ui::model::decrypted_note)
                .unwrap_or_default();
            Some(Line::styled(
                format!("[{d}: the plaintext inside the TLS records]"),
                th.state(),
            ))
        }
        (false, Some(_)) => Some(Line::styled(
            "[TLS records, encrypted: no key log for this connection]",
            th.dim(),
        )),
        _ => None,
    }
}

/// The header line: each direction's byte count in its side's colour, and from 90
/// columns on whether the display cap cut the stream.
fn totals_line(s: &StreamData, width: u16, th: Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("C: client → server {} B", s.bytes[0]), th.client()),
        Span::raw("   "),
        Span::styled(format!("S: server → client {} B", s.bytes[1]), th.server()),
        Span::raw(if s.truncated && width >= 90 {
            "   (cut at the display cap)"
        } else {
            ""
        }),
    ])
}

/// Up to `rows` screen lines of `visible` pushed onto `lines`. `C:` / `S:` say the side
/// without colour too; a line wider than `w` cells continues on the next rows (indented
/// under its prefix): nothing is cut off.
fn push_wrapped<'a>(
    lines: &mut Vec<Line<'static>>,
    visible: impl Iterator<Item = &'a StreamLine>,
    w: usize,
    rows: usize,
    th: Theme,
) {
    let mut shown = 0;
    for l in visible {
        let st = if l.gap { th.anomaly() } else { th.side(l.dir) };
        let side = match l.dir {
            crate::flow::Dir::Client => "C: ",
            crate::flow::Dir::Server => "S: ",
        };
        let chars: Vec<char> = l.text.chars().collect();
        let mut first = true;
        for part in chars.chunks(w).chain(chars.is_empty().then_some(&[][..])) {
            if shown == rows {
                return;
            }
            let prefix = if first { side } else { "   " };
            first = false;
            lines.push(Line::styled(
                format!("{prefix}{}", part.iter().collect::<String>()),
                st,
            ));
            shown += 1;
        }
    }
}
