//! The anomaly list overlay (`e`): findings grouped by severity and kind with counts, the
//! selected line reversed; Enter jumps to its frame.

use crate::ui::anomalies::Entry;
use crate::ui::app::App;
use crate::ui::fit::cut_words;
use crate::ui::layout;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(l) = &app.anomalies else { return };
    f.render_widget(Clear, area);
    let entries = l.entries(app.play.playhead);
    let rows = usize::from(area.height.saturating_sub(2)).max(1);
    let sel = l.sel.min(entries.len().saturating_sub(1));
    let off = layout::keep_visible(sel, sel.saturating_sub(rows - 1), rows);
    let w = usize::from(area.width.saturating_sub(2));
    let mut lines: Vec<Line> = Vec::new();
    for (i, e) in entries.iter().enumerate().skip(off).take(rows) {
        let (text, st) = match e {
            Entry::Header(g, n) => (
                format!("{:<8} {} ({n})", g.severity.name(), g.kind.label()),
                th.header(),
            ),
            Entry::Item(it) => {
                let conn = if l.capture_wide {
                    format!("  #{}", it.conn_id)
                } else {
                    String::new()
                };
                (
                    format!("    frame {}{conn}  {}", it.frame, it.what),
                    th.side_neutral(),
                )
            }
        };
        let st = if i == sel {
            st.patch(th.selected())
        } else {
            st
        };
        lines.push(Line::styled(cut_words(&text, w), st));
    }
    if entries.is_empty() {
        lines.push(Line::raw(if app.play.playhead.is_some() {
            "no anomaly up to the playhead"
        } else {
            "no anomaly: no analysis finding on any packet"
        }));
    }
    let title = format!(
        " anomalies{} (Enter: go to frame, Esc/e: close) ",
        if l.capture_wide {
            " of the capture"
        } else {
            " of this connection"
        }
    );
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(cut_words(&title, w)),
        ),
        area,
    );
}
