//! The help overlay: every key (the list and its geometry are in `ui::keys`).

use crate::ui::keys::{HELP, help_geometry, wrap_words};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub(super) fn render(f: &mut Frame, th: Theme, area: Rect, scroll: usize) {
    let ((x, y, w, h), key_w, text_w) = help_geometry(area.width, area.height);
    let r = Rect::new(area.x + x, area.y + y, w, h);
    let h = r.height;
    f.render_widget(Clear, r);
    let rows = usize::from(h.saturating_sub(2));
    // Each entry on as many lines as its words need (a key's text is never cut).
    let mut all: Vec<Line> = Vec::new();
    for (k, v) in HELP {
        let mut first = true;
        for part in wrap_words(v, text_w) {
            let key = if first { *k } else { "" };
            all.push(Line::from(vec![
                Span::styled(format!("{key:>key_w$}  "), th.warn()),
                Span::raw(part),
            ]));
            first = false;
        }
    }
    let scroll = scroll.min(all.len().saturating_sub(rows));
    let more = all.len() > rows + scroll;
    let lines: Vec<Line> = all.into_iter().skip(scroll).take(rows).collect();
    let title = if more || scroll > 0 {
        " keys (↑↓ PgUp PgDn scroll, any other key closes) "
    } else {
        " keys (any key closes) "
    };
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
}
