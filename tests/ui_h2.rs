//! The TUI on HTTP/2 (issue 16): the ladder labels each segment with the frames it
//! completed (`HEADERS s13 GET /…`, `DATA s15 16 kB`), several joined or the first
//! `+N more`, and colours each stream's arrows (the label's `s13` keeps it readable
//! without colour). `h2-nghttp-multi`: nghttp fetching seven objects over one
//! cleartext connection, streams 13 to 19 interleaved.

mod common;

use common::ui::{cap, load, screen};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use tcpscope::capture::Source;
use tcpscope::ui::action::Action;
use tcpscope::ui::app::{App, Tab};
use tcpscope::ui::{load_wanted, view};

/// The capture's first connection on tab `t`, at `w`×`h`.
fn open(name: &str, t: Tab, w: u16, h: u16, color: bool) -> App {
    let mut app = App::new(name);
    app.color = color;
    app.update(Action::Resize(w, h));
    app.set_loaded(load(name));
    app.open_row(0);
    app.update(Action::SelectTab(t));
    load_wanted(&mut app, &Source::File(cap(name)));
    app
}

/// The screen's row holding `needle`, and the foreground colour of its first cell
/// after the client's lifeline.
fn arrow_colour(app: &App, needle: &str) -> Option<Color> {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::render(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    for y in 0..h {
        let row: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        if row.contains(needle) {
            let x = row.chars().position(|c| c == '│')? as u16 + 1;
            return buf[(x, y)].fg.into();
        }
    }
    None
}

#[test]
fn ladder_labels_h2_frames_at_160x45() {
    let app = open("h2-nghttp-multi.pcap", Tab::Ladder, 160, 45, false);
    let s = screen(&app);
    // A frame is labelled at the segment holding its header's first byte (tshark shows
    // it at the segment that completes it, one DATA later here: tshark -Y http2 -e
    // frame.number -e http2.type -e http2.streamid -e http2.length gives 14: DATA s15
    // 16384; 16: DATA s17 16384, s19 18, s13 16365; 18: WINDOW_UPDATE s0 ×2).
    for want in [
        "13 0.002721  +11µs",
        "len=14480 win=65536 DATA s15 16 kB",
        "len=14480 win=65536 DATA s17 16 kB",
        "DATA s19 18 B END_STREAM + DATA s13 16 kB",
        "WINDOW_UPDATE s0 +32768 + WINDOW_UPDATE s0 +32767",
        "DATA s17 7 kB END_STREAM",
        "GOAWAY s0",
    ] {
        assert!(s.contains(want), "{want}: {s}");
    }
    // Frame 6: the preface's frames, eleven in one segment: too long whole, the first
    // and how many more.
    assert!(s.contains("SETTINGS s0 +10 more"), "{s}");
    insta::assert_snapshot!("h2_ladder_160x45", s);
}

#[test]
fn ladder_labels_h2_frames_at_80x24() {
    let app = open("h2-nghttp-multi.pcap", Tab::Ladder, 80, 24, false);
    let s = screen(&app);
    assert!(s.contains("DATA s15 16 kB"), "{s}");
    assert!(s.contains("DATA s17 16 kB"), "{s}");
    // Nothing cut: every `kB` has its number, every `s` its id.
    for l in s.lines() {
        assert!(!l.contains("s… "), "{l}");
    }
    insta::assert_snapshot!("h2_ladder_80x24", s);
}

#[test]
fn each_stream_has_its_colour_and_no_colour_keeps_the_ids() {
    let app = open("h2-nghttp-multi.pcap", Tab::Ladder, 160, 45, true);
    let c15 = arrow_colour(&app, "len=14480 win=65536 DATA s15 16 kB");
    let c17 = arrow_colour(&app, "len=14480 win=65536 DATA s17 16 kB");
    let c19 = arrow_colour(&app, "DATA s19 18 B END_STREAM");
    assert!(
        c15.is_some() && c17.is_some() && c15 != c17,
        "{c15:?} {c17:?}"
    );
    assert!(c19.is_some() && c19 != c15 && c19 != c17, "{c19:?}");
    assert_ne!(c15, Some(Color::Reset));
    let mono = open("h2-nghttp-multi.pcap", Tab::Ladder, 160, 45, false);
    assert_eq!(arrow_colour(&mono, "DATA s15 16 kB"), Some(Color::Reset));
}

#[test]
fn a_later_h2_stream_is_not_called_a_keep_alive_reuse() {
    // Streams 15..19 run beside stream 13 on the same connection: no handshake of their
    // own, but not "reused (keep-alive)" either (that is HTTP/1.1's one-after-another).
    let d = load("h2-nghttp-multi.pcap");
    let c = d.conn(0).expect("the connection");
    let texts: Vec<String> = c
        .http
        .iter()
        .enumerate()
        .filter_map(|(i, x)| tcpscope::ui::timing::timing(c, i, x))
        .map(|t| t.handshake_text())
        .collect();
    assert!(texts.len() >= 2, "{texts:?}");
    assert!(texts[0].starts_with("H handshake "), "{texts:?}");
    assert_eq!(
        texts[1],
        "HTTP/2 stream 15, beside the others on this connection: no handshake"
    );
    assert!(texts.iter().all(|t| !t.contains("keep-alive")), "{texts:?}");
}
