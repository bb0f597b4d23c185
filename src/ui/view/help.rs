//! The help overlay: every key.

use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Every key, for the help screen and docs/tui.md.
pub const HELP: &[(&str, &str)] = &[
    ("q  Ctrl-C", "quit"),
    (
        "Esc",
        "back (closes help, leaves a connection, quits from the list)",
    ),
    ("?", "this help (any key closes it)"),
    ("P", "presenter mode: larger spacing, fewer columns"),
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
        ":N  g N",
        "go to frame N (Enter; Esc cancels); while stepping, the playhead too",
    ),
    (
        "n  N",
        "next / previous anomaly (packet with an analysis finding)",
    ),
    (
        "e",
        "anomaly list (Expert Info): by severity and kind; Enter goes to the frame",
    ),
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
        "1-5  Tab  Shift-Tab",
        "Ladder, Packets, States, HTTP, Stream tabs",
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
    ("p", "play / pause"),
    (
        "m",
        "pace: packet time (x speed) / one packet per second (teaching)",
    ),
    ("a", "playback stops at each anomaly (on / off)"),
    (
        "z",
        "quiz: predict each key packet (flags, ACK, next state) before it shows",
    ),
    (
        "+  -",
        "playback speed (x0.1 to x100; packets per second in 1 pkt/s pace)",
    ),
    ("Backspace", "back to the connections list"),
    ("mouse", "left click selects a row, the wheel scrolls"),
    ("f", "live capture: freeze / resume the display"),
    ("↑ ↓  PgUp PgDn", "in this help: scroll"),
];

/// The help's box on a screen `area` big: its rectangle, the width of the key column
/// and of the text column.
fn geometry(area: Rect) -> (Rect, usize, usize) {
    let w = area.width.min(96);
    let h = area.height.min(HELP.len() as u16 + 2);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let key_w = if w >= 90 { 26 } else { 16 };
    let text_w = usize::from(w.saturating_sub(2)).saturating_sub(key_w + 2);
    (r, key_w, text_w)
}

/// The furthest the help scrolls on a `w`x`h` screen: its last line at the bottom.
pub fn help_max_scroll(w: u16, h: u16) -> usize {
    let (r, _, text_w) = geometry(Rect::new(0, 0, w, h));
    let lines: usize = HELP.iter().map(|(_, v)| wrap_words(v, text_w).len()).sum();
    lines.saturating_sub(usize::from(r.height.saturating_sub(2)))
}

pub(super) fn render(f: &mut Frame, th: Theme, area: Rect, scroll: usize) {
    let (r, key_w, text_w) = geometry(area);
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

/// `s` in lines of at most `w` cells, broken between words.
fn wrap_words(s: &str, w: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for word in s.split(' ') {
        let cur = out.last_mut().expect("never empty");
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > w {
            out.push(word.to_string());
        } else {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
    }
    out
}
