//! Presenter mode (`--present`, `P`): a slide for a projector. The Ladder and Packets tabs
//! drop the header tree and hex dump (unreadable from the back of a room) and show the
//! ladder, double-spaced, over the explanation of the selected packet, which follows
//! the playhead as Space steps.

use crate::ui::app::App;
use crate::ui::layout;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let expl = layout::slide_explanation_rows(app.size.1).min(area.height.saturating_sub(3));
    let [ladder_a, expl_a] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(expl)]).areas(area);
    super::ladder::render(f, app, th, ladder_a);
    if let Some(p) = app.visible_packets().get(app.conn_view.pkt_sel) {
        super::packets::render_explanation(f, app, th, expl_a, p.frame);
    }
}
