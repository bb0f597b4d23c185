//! The TUI's pictures: the Graph tab (the sequence-number graph, following the playhead,
//! zooming with ↑/↓) and presenter mode (ladder over the explanation, no hex dump), drawn
//! on ratatui's TestBackend at 80x24 and 160x45.

mod common;

use common::ui::{cap, load, press, screen};
use crossterm::event::KeyCode;
use tcpscope::capture::Source;
use tcpscope::ui::action::Action;
use tcpscope::ui::app::App;
use tcpscope::ui::load_wanted;

fn lossy(w: u16, h: u16) -> App {
    let path = cap("http-lossy-download.pcap");
    let mut app = App::new(path.to_str().unwrap());
    app.update(Action::Resize(w, h));
    app.set_loaded(load("http-lossy-download.pcap"));
    press(&mut app, KeyCode::Enter);
    app
}

/// The number after `label` in `s` (digits only).
fn num_after(s: &str, label: &str) -> u64 {
    let i = s
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in\n{s}"))
        + label.len();
    s[i..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

#[test]
fn graph_tab_draws_the_download_and_follows_the_playhead() {
    for (w, h) in [(80, 24), (160, 45)] {
        let mut app = lossy(w, h);
        press(&mut app, KeyCode::Char('6'));
        let s = screen(&app);
        assert!(s.contains("6 Graph"), "{s}");
        assert!(s.contains("server → client data"), "{w}x{h}\n{s}");
        // The whole connection: 761 segments (759 with data, SYN, FIN), 21 resent.
        if w >= 100 {
            assert_eq!(num_after(&s, "zoom ×"), 1, "{s}");
            assert_eq!(num_after(&s, "(↓ in, ↑ out) · "), 761, "{s}");
            assert!(s.contains("21 resent"), "{s}");
        }
        assert!(s.contains('R'), "{s}");
        // Step from the start: only what was sent so far is drawn.
        press(&mut app, KeyCode::Home);
        for _ in 0..9 {
            press(&mut app, KeyCode::Char(' '));
        }
        let s = screen(&app);
        if w >= 100 {
            // Frames 1-10: the server's SYN-ACK and its first data segments.
            let n = num_after(&s, "(↓ in, ↑ out) · ");
            assert!((1..10).contains(&n), "{n}\n{s}");
            assert!(s.contains(" 0 resent"), "{s}");
        }
        // ↓ zooms in, ↑ back out.
        press(&mut app, KeyCode::End);
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Down);
        assert!(screen(&app).contains("zoom ×4"), "{}", screen(&app));
        press(&mut app, KeyCode::Up);
        assert!(screen(&app).contains("zoom ×2"));
        assert!(
            screen(&app)
                .lines()
                .all(|l| l.chars().count() <= usize::from(w))
        );
    }
}

#[test]
fn presenter_mode_shows_ladder_and_explanation_without_hex() {
    for (w, h) in [(80, 24), (160, 45)] {
        let mut app = lossy(w, h);
        press(&mut app, KeyCode::Char('2'));
        let before = screen(&app);
        assert!(before.contains("headers ([ ] select field)"), "{before}");
        press(&mut app, KeyCode::Char('P'));
        for tab in ['1', '2'] {
            press(&mut app, KeyCode::Char(tab));
            let s = screen(&app);
            assert!(s.contains("what it does"), "{w}x{h} tab {tab}\n{s}");
            assert!(!s.contains("headers ([ ] select field)"), "{s}");
            assert!(s.contains("▶│") || s.contains("│◀"), "{s}");
        }
        // Space steps; the explanation follows the selected packet.
        press(&mut app, KeyCode::Home);
        press(&mut app, KeyCode::Char(' '));
        let s = screen(&app);
        assert!(s.contains("frame 2: what it does"), "{s}");
    }
}

/// §7: the Stream tab shows raw bytes byte by byte, escaped (a gzip body's byte pairs
/// never turn into CJK characters), and a line wider than the screen continues on the
/// next rows instead of losing characters. At 80x24 on the gzip + chunked capture.
#[test]
fn stream_tab_renders_raw_bytes_escaped_and_whole_at_80x24() {
    let path = cap("http-gzip-chunked.pcap");
    let mut app = App::new(path.to_str().unwrap());
    app.update(Action::Resize(80, 24));
    app.set_loaded(load("http-gzip-chunked.pcap"));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('5'));
    load_wanted(&mut app, &Source::File(path));
    let st = app.stream.as_ref().unwrap().as_ref().unwrap();
    // Every stream character is ASCII: bytes >= 0x80 are \xNN.
    for l in &st.lines {
        assert!(l.text.is_ascii(), "not byte-escaped: {:?}", l.text);
    }
    let long = st
        .lines
        .iter()
        .position(|l| l.text.contains("\\x") && l.text.len() > 80)
        .expect("a wrapped binary line");
    // Scroll so that line is the first shown, then read it back from the screen rows.
    app.conn_view.scroll = long;
    let s = screen(&app);
    let rows: Vec<&str> = s.lines().skip(2).collect();
    let want = &st.lines[long].text;
    // Each row is a 3-cell side prefix (`C: `/`S: `, then blanks under it) and 77 bytes.
    let chunks: Vec<&str> = (0..want.len())
        .step_by(77)
        .map(|i| &want[i..(i + 77).min(want.len())])
        .collect();
    assert!(chunks.len() >= 2, "{want}");
    let side = match st.lines[long].dir {
        tcpscope::flow::Dir::Client => "C: ",
        tcpscope::flow::Dir::Server => "S: ",
    };
    for (i, c) in chunks.iter().enumerate().take(rows.len()) {
        let prefix = if i == 0 { side } else { "   " };
        assert_eq!(
            rows[i],
            format!("{prefix}{c}").trim_end(),
            "row {i} of {want:?}\n{s}"
        );
    }
    assert!(rows[0][3..].starts_with(&want[..10]), "{s}");
    assert!(
        s.chars().all(|c| (c as u32) < 0x2e80),
        "wide characters on screen:\n{s}"
    );
}
