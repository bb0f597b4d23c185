//! Every key of the UI, for the help overlay and docs/tui.md, and the help's geometry
//! (shared by the state, which bounds its scroll, and the view, which draws it). Pure.

/// Every key, for the help screen and docs/tui.md.
pub const HELP: &[(&str, &str)] = &[
    ("q  Ctrl-C", "quit"),
    (
        "Esc",
        "back (closes help, leaves a connection, quits from the list)",
    ),
    (
        "?",
        "this help (↑ ↓ PgUp PgDn scroll it, any other key closes it)",
    ),
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
        "1-7  Tab  Shift-Tab",
        "Ladder, Packets, States, HTTP, Stream, Graph, Lanes tabs (Lanes: the HTTP exchanges or HTTP/2 streams over time, a waterfall)",
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
    (
        "w",
        "write the selected connection's frames to tcpscope-conn-N.pcap here",
    ),
    ("↑ ↓  PgUp PgDn", "in this help: scroll"),
];

/// The help's box on a `w`x`h` screen: (x, y, width, height), the width of the key column
/// (the longest key, so no key pushes its text out) and of the text column.
pub fn help_geometry(w: u16, h: u16) -> ((u16, u16, u16, u16), usize, usize) {
    let bw = w.min(96);
    let bh = h.min(HELP.len() as u16 + 2);
    let key_w = HELP
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let text_w = usize::from(bw.saturating_sub(2)).saturating_sub(key_w + 2);
    (((w - bw) / 2, (h - bh) / 2, bw, bh), key_w, text_w)
}

/// The furthest the help scrolls on a `w`x`h` screen: its last line at the bottom.
pub fn help_max_scroll(w: u16, h: u16) -> usize {
    let ((_, _, _, bh), _, text_w) = help_geometry(w, h);
    let lines: usize = HELP.iter().map(|(_, v)| wrap_words(v, text_w).len()).sum();
    lines.saturating_sub(usize::from(bh.saturating_sub(2)))
}

/// `s` in lines of at most `w` cells, broken between words.
pub fn wrap_words(s: &str, w: usize) -> Vec<String> {
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
