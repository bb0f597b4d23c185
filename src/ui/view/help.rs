//! The help overlay: every key.

use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// Every key, for the help screen and docs/tui.md.
pub const HELP: &[(&str, &str)] = &[
    ("q  Ctrl-C", "quit"),
    (
        "Esc",
        "back (closes help, leaves a connection, quits from the list)",
    ),
    ("?", "this help (any key closes it)"),
    ("P", "presenter mode: ladder and explanation, no hex dump"),
    (
        "↑ ↓  k j",
        "move the selection (arrow, packet, exchange) or scroll",
    ),
    (
        "PgUp PgDn  Ctrl-B Ctrl-F",
        "page up / down (HTTP tab: scroll the exchange)",
    ),
    ("g  G", "first / last row"),
    (
        "Enter",
        "open the connection; on a ladder arrow: open it in Packets",
    ),
    (
        "/",
        "filter as you type: address, port, state, http, GET, 404, anomalies",
    ),
    ("s  S", "cycle the sort column / reverse the order"),
    (
        "1-6  Tab  Shift-Tab",
        "Ladder, Packets, States, HTTP, Stream, Graph tabs",
    ),
    (
        "[  ]",
        "Packets tab: previous / next header field (highlights its bytes)",
    ),
    (
        "Space → l",
        "playhead: next packet (in the connection, or across the capture)",
    ),
    ("← h", "playhead: previous packet"),
    ("Home  End", "playhead: first packet / show everything"),
    ("p", "play / pause in real time"),
    (
        "z",
        "quiz: predict each key packet (flags, ACK, next state) before it shows",
    ),
    ("+  -", "playback speed (x0.1 to x100)"),
    ("Backspace", "back to the connections list"),
    ("mouse", "click selects, wheel scrolls"),
];

pub(super) fn render(f: &mut Frame, th: Theme, area: Rect) {
    let w = area.width.min(84);
    let h = area.height.min(HELP.len() as u16 + 4);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:>26}  "), th.warn()),
                Span::raw(*v),
            ])
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys (any key closes) "),
        ),
        r,
    );
}
