//! Key handling as pure Key -> Action -> update, without a terminal.

mod common;

use common::ui::{cap, key, load, press, screen, single, typed};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use tcpscope::capture::Source;
use tcpscope::ui::action::{Action, map_key, map_mouse};
use tcpscope::ui::app::{App, Screen, Tab};
use tcpscope::ui::bytes::BytesError;
use tcpscope::ui::load_wanted;
use tcpscope::ui::model::{Column, Loaded};
use tcpscope::ui::playback::SPEEDS;

fn left_click(column: u16, row: u16) -> MouseEvent {
    MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }
}

/// One App over the connections of several captures.
fn multi() -> App {
    let mut conns = Vec::new();
    let mut stats = None;
    for n in [
        "http-get.pcap",
        "tcp-refused.pcap",
        "tcp-lossy-client-side.pcap",
        "http-head-304.pcap",
        "tcp-midstream.pcap",
    ] {
        let l = load(n);
        stats.get_or_insert(l.stats.clone());
        conns.extend(l.into_records());
    }
    let mut app = App::new("multi");
    app.update(Action::Resize(120, 40));
    app.set_loaded(Loaded::new(stats.unwrap(), conns));
    app
}

#[test]
fn quit_keys() {
    let mut app = single("http-get.pcap");
    assert_eq!(
        map_key(&app.key_context(), key(KeyCode::Char('q'))),
        Some(Action::Quit)
    );
    assert_eq!(
        map_key(
            &app.key_context(),
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
        ),
        Some(Action::Quit)
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.quit, "Esc on the list quits");
}

#[test]
fn enter_opens_tabs_switch_and_esc_goes_back() {
    let mut app = single("http-get.pcap");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Connection);
    assert_eq!(app.conn_view.tab, Tab::Ladder);
    press(&mut app, KeyCode::Char('3'));
    assert_eq!(app.conn_view.tab, Tab::States);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.conn_view.tab, Tab::Http);
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.conn_view.tab, Tab::Packets);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Connections);
    assert!(!app.quit);
}

#[test]
fn filter_as_you_type() {
    let mut app = multi();
    assert_eq!(app.table.visible.len(), 5);
    press(&mut app, KeyCode::Char('/'));
    assert!(app.table.filter_editing);
    typed(&mut app, "http");
    assert_eq!(
        app.table.visible.len(),
        3,
        "http-get, the lossy download and http-head-304"
    );
    // While typing, q is text, not quit.
    assert!(!app.quit);
    press(&mut app, KeyCode::Backspace);
    assert_eq!(app.table.filter, "htt");
    press(&mut app, KeyCode::Esc);
    assert!(app.table.filter.is_empty() && !app.table.filter_editing);
    assert_eq!(app.table.visible.len(), 5);

    for (f, n) in [
        ("head", 1),
        ("304", 1),
        (":81", 1),
        ("refused", 1),
        ("anomalies", 1),
        ("GET 200", 3),
        ("HEAD", 1),
        ("nomatch", 0),
    ] {
        app.table.filter = String::new();
        press(&mut app, KeyCode::Char('/'));
        typed(&mut app, f);
        press(&mut app, KeyCode::Enter);
        assert!(!app.table.filter_editing);
        assert_eq!(app.table.visible.len(), n, "filter {f:?}");
    }
}

#[test]
fn sort_cycles_and_reverses() {
    let mut app = multi();
    assert_eq!(app.table.sort, Column::Id);
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.table.sort, Column::Client);
    // Sort by packets: the lossy capture has the most.
    while app.table.sort != Column::Packets {
        press(&mut app, KeyCode::Char('s'));
    }
    press(&mut app, KeyCode::Char('S'));
    let d = app.data.as_ref().unwrap();
    let first = app.table.visible[0];
    let n = tcpscope::ui::model::packet_count(d.conn(first).unwrap());
    assert!(n > 900, "{n}");
}

#[test]
fn vim_keys_move_and_clamp() {
    let mut app = multi();
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.table.sel, 2);
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.table.sel, 1);
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.table.sel, 4);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.table.sel, 4);
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.table.sel, 0);
}

#[test]
fn step_through_a_connection() {
    let mut app = single("http-get.pcap");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.play.playhead, None);
    assert_eq!(app.visible_packets().len(), 12);
    press(&mut app, KeyCode::Home);
    assert_eq!(app.play.playhead, Some(1));
    assert_eq!(app.visible_packets().len(), 1);
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Right);
    assert_eq!(app.play.playhead, Some(3));
    assert_eq!(app.conn_view.pkt_sel, 2, "selection follows the playhead");
    press(&mut app, KeyCode::Left);
    assert_eq!(app.play.playhead, Some(2));
    press(&mut app, KeyCode::End);
    assert_eq!(app.play.playhead, None);
    assert_eq!(app.visible_packets().len(), 12);
}

#[test]
fn step_across_the_capture_from_the_list() {
    let mut app = single("http-get.pcap");
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.play.playhead, Some(1));
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.play.playhead, Some(2));
    press(&mut app, KeyCode::Left);
    assert_eq!(app.play.playhead, Some(1));
    assert_eq!(app.screen, Screen::Connections);
}

#[test]
fn play_advances_in_virtual_time_with_speed() {
    let mut app = single("tcp-syn-retry.pcap");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('p'));
    assert!(app.play.playing);
    assert_eq!(app.play.playhead, Some(1));
    // The 2nd SYN is ~1.02 s later: 0.5 s at x1 is not enough, at x2 it is.
    app.update(Action::Tick(500_000_000));
    assert_eq!(app.play.playhead, Some(1));
    press(&mut app, KeyCode::Char('+'));
    assert_eq!(SPEEDS[app.play.speed], 2.0);
    app.update(Action::Tick(500_000_000));
    assert_eq!(app.play.playhead, Some(2));
    // Fast enough to reach the end, then playback stops.
    for _ in 0..20 {
        press(&mut app, KeyCode::Char('+'));
    }
    assert_eq!(SPEEDS[app.play.speed], 100.0);
    for _ in 0..10 {
        app.update(Action::Tick(1_000_000_000));
    }
    assert!(!app.play.playing);
    assert_eq!(app.play.playhead, Some(14));
    for _ in 0..20 {
        press(&mut app, KeyCode::Char('-'));
    }
    assert_eq!(SPEEDS[app.play.speed], 0.1);
    press(&mut app, KeyCode::Char(' '));
    assert!(!app.play.playing);
}

#[test]
fn help_toggles_and_any_key_closes() {
    let mut app = single("http-get.pcap");
    press(&mut app, KeyCode::Char('?'));
    assert!(app.help);
    press(&mut app, KeyCode::Char('x'));
    assert!(!app.help);
    press(&mut app, KeyCode::Char('P'));
    assert!(app.present);
}

#[test]
fn enter_on_ladder_arrow_opens_packets() {
    let mut app = single("http-get.pcap");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.conn_view.tab, Tab::Packets);
    assert_eq!(app.visible_packets()[app.conn_view.pkt_sel].frame, 3);
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    let mut app = multi();
    let click = left_click(10, 4);
    app.update(map_mouse(click).unwrap());
    assert_eq!(app.table.sel, 2, "row 2 is the first data row");
    let wheel = MouseEvent {
        kind: MouseEventKind::ScrollDown,
        ..click
    };
    app.update(map_mouse(wheel).unwrap());
    assert_eq!(app.table.sel, 4);
}

#[test]
fn virtual_scrolling_keeps_selection_visible() {
    let mut app = multi();
    app.update(Action::Resize(80, 6)); // 2 list rows
    app.update(Action::Bottom);
    assert_eq!(app.table.sel, 4);
    assert!(app.table.offset <= 4 && 4 < app.table.offset + app.list_rows());
    app.update(Action::Top);
    assert_eq!(app.table.offset, 0);
}

#[test]
fn http_tab_pages_scroll_the_detail() {
    let mut app = single("http-keepalive.pcap");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.conn_view.http_sel, 1);
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.conn_view.http_sel, 1);
    assert!(app.conn_view.scroll > 0);
    press(&mut app, KeyCode::PageUp);
    assert_eq!(app.conn_view.scroll, 0);
}

/// A click in a scrolled HTTP exchange list picks the exchange drawn on that row.
#[test]
fn click_in_scrolled_http_list_picks_the_row_shown() {
    let mut app = single("http-keepalive.pcap");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('4'));
    app.update(Action::Resize(100, 11)); // two list rows
    let n = app.visible_exchanges();
    assert!(n >= 3, "{n} exchanges");
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.conn_view.http_sel, 2);
    // The list now shows exchanges 1 and 2; its first row is screen row 2.
    app.update(map_mouse(left_click(5, 2)).unwrap());
    assert_eq!(app.conn_view.http_sel, 1);
}

/// The transitions the States tab lists for the open connection (both sides, all frames).
fn transitions(app: &App) -> usize {
    let s = &app.conn().unwrap().summary.as_ref().unwrap().states;
    s.client.len() + s.server.len()
}

/// `G` in the States tab shows the last page of transitions, not an empty pane; the wheel
/// and paging stop at the last transition; `g` goes back to the first.
#[test]
fn states_tab_bottom_shows_the_last_transitions() {
    let mut app = single("http-get.pcap");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('3'));
    let n = transitions(&app);
    assert!(n > 4, "{n} transitions");
    press(&mut app, KeyCode::Char('G'));
    assert!(
        app.conn_view.scroll <= n,
        "scroll {} of {n} transitions",
        app.conn_view.scroll
    );
    let s = screen(&app);
    assert!(s.contains(" → "), "{s}");
    assert!(s.contains("client") && s.contains("server"), "{s}");

    // A list taller than its pane: 40 - 18 = 22 rows at 120×40; 4 at 120×22.
    app.update(Action::Resize(120, 22));
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.conn_view.scroll, n - 4, "the last page of 4 rows");
    let last = app
        .conn()
        .unwrap()
        .summary
        .as_ref()
        .unwrap()
        .states
        .client
        .iter()
        .chain(&app.conn().unwrap().summary.as_ref().unwrap().states.server)
        .map(|t| t.frame)
        .max()
        .unwrap();
    let s = screen(&app);
    let rows: Vec<&str> = s
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains(" → "))
        .collect();
    assert_eq!(rows.len(), 4, "{s}");
    assert!(
        rows[3].trim_start().starts_with(&last.to_string()),
        "the last row is the last transition (frame {last}):\n{s}"
    );

    for _ in 0..50 {
        press(&mut app, KeyCode::PageDown);
        app.update(Action::ScrollDown);
        press(&mut app, KeyCode::Char('j'));
    }
    assert_eq!(app.conn_view.scroll, n - 1, "stops at the last transition");
    assert!(screen(&app).contains(" → "));
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.conn_view.scroll, 0);

    // Stepping the playhead back shortens the list; the scroll follows.
    app.update(Action::Resize(120, 40));
    press(&mut app, KeyCode::Char('G'));
    for _ in 0..50 {
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Home);
    assert!(app.conn_view.scroll <= app.scroll_lines().saturating_sub(1));
}

/// `G` in the Stream tab shows the last page of the rebuilt stream.
#[test]
fn stream_tab_bottom_shows_the_last_lines() {
    let mut app = single("http-keepalive.pcap");
    let src = Source::File(cap("http-keepalive.pcap"));
    app.update(Action::Resize(120, 12));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('5'));
    load_wanted(&mut app, &src);
    let lines: Vec<String> = match app.open_stream() {
        Some(Ok(s)) => s.lines.iter().map(|l| l.text.clone()).collect(),
        other => panic!("{other:?}"),
    };
    let rows = 12 - 3;
    assert!(lines.len() > rows, "{} lines", lines.len());
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.conn_view.scroll, lines.len() - rows);
    let s = screen(&app);
    let last = lines.iter().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(s.contains(last.trim_end()), "{last:?} not in\n{s}");
    for _ in 0..100 {
        app.update(Action::ScrollDown);
    }
    assert_eq!(app.conn_view.scroll, lines.len() - 1);
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.conn_view.scroll, 0);
}

/// The HTTP detail scrolls no further than its last line.
#[test]
fn http_detail_scroll_stops_at_its_last_line() {
    let mut app = single("http-keepalive.pcap");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('4'));
    for _ in 0..100 {
        press(&mut app, KeyCode::PageDown);
    }
    let n = app.scroll_lines();
    assert!(n > 1, "{n} detail lines");
    assert_eq!(app.conn_view.scroll, n - 1);
}

/// A frame that could not be read: its error is kept while it stays selected (not read
/// again on every draw), and another packet is read and shown, not that error.
#[test]
fn frame_read_error_does_not_stick_to_other_packets() {
    let mut app = single("http-get.pcap");
    let src = Source::File(cap("http-get.pcap"));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('2'));
    let first = app.visible_packets()[0].frame;
    app.frame_bytes = Some(Err(BytesError::of(first, "simulated read failure")));
    load_wanted(&mut app, &src);
    assert!(
        matches!(&app.frame_bytes, Some(Err(e)) if e.key == Some(first)),
        "the failure stays cached for its frame"
    );
    assert!(screen(&app).contains("simulated read failure"));

    press(&mut app, KeyCode::Char('j'));
    let second = app.visible_packets()[app.conn_view.pkt_sel].frame;
    assert_ne!(first, second);
    // Before the runtime loads it: another frame's error is not this packet's.
    let s = screen(&app);
    assert!(!s.contains("simulated read failure"), "{s}");
    assert!(s.contains("reading the frame from the file"), "{s}");
    load_wanted(&mut app, &src);
    assert!(matches!(&app.frame_bytes, Some(Ok(b)) if b.frame == second));
    let s = screen(&app);
    assert!(!s.contains("simulated read failure"), "{s}");
    assert!(s.contains("Source port"), "{s}");

    // Back on the first packet it is read again (and now succeeds).
    press(&mut app, KeyCode::Char('k'));
    load_wanted(&mut app, &src);
    assert!(matches!(&app.frame_bytes, Some(Ok(b)) if b.frame == first));

    // A reason for no frame in particular (a live capture without -w) answers every one.
    app.frame_bytes = Some(Err("no bytes kept".into()));
    press(&mut app, KeyCode::Char('j'));
    load_wanted(&mut app, &src);
    assert!(screen(&app).contains("no bytes kept"));
}

/// A stream rebuild that failed for another connection is not shown for this one, and
/// this one's is rebuilt.
#[test]
fn stream_error_of_another_connection_does_not_stick() {
    let mut app = single("http-get.pcap");
    let src = Source::File(cap("http-get.pcap"));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('5'));
    let id = app.conn().unwrap().id;
    app.stream = Some(Err(BytesError::of(id + 1, "simulated rebuild failure")));
    let s = screen(&app);
    assert!(!s.contains("simulated rebuild failure"), "{s}");
    load_wanted(&mut app, &src);
    assert!(matches!(&app.stream, Some(Ok(s)) if s.conn_id == id));
    assert!(screen(&app).contains("client → server"));

    // This connection's own failure is shown, and kept (not rebuilt on every draw).
    app.stream = Some(Err(BytesError::of(id, "simulated rebuild failure")));
    load_wanted(&mut app, &src);
    assert!(screen(&app).contains("simulated rebuild failure"));
}

/// Every kept packet's frame of a bundled capture, in order.
fn sorted_frames(name: &str) -> Vec<u64> {
    let l = load(name);
    let mut f: Vec<u64> = l
        .into_records()
        .iter()
        .flat_map(|c| tcpscope::ui::model::packets(c).iter().map(|p| p.frame))
        .collect();
    f.sort_unstable();
    f
}

#[test]
fn space_steps_the_whole_capture_in_frame_order_from_the_list() {
    let name = "tcp-lossy-client-side.pcap";
    let want = sorted_frames(name);
    assert!(want.len() > 900, "{}", want.len());
    let mut app = single(name);
    let mut seen = Vec::new();
    for _ in 0..want.len() {
        press(&mut app, KeyCode::Char(' '));
        assert_eq!(app.screen, Screen::Connections);
        seen.push(app.play.playhead.expect("a playhead"));
    }
    assert_eq!(seen, want);
    assert_eq!(seen, (1..=want.len() as u64).collect::<Vec<_>>());
    assert_eq!(app.table.sel, 0, "the table stays on the connection played");
    // Past the last packet: the playhead stays, and says so.
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.play.playhead, want.last().copied());
    assert_eq!(app.message.as_deref(), Some("end of capture"));
    // And back down, one packet at a time.
    for &f in want.iter().rev().skip(1) {
        press(&mut app, KeyCode::Left);
        assert_eq!(app.play.playhead, Some(f));
    }
    press(&mut app, KeyCode::Left);
    assert_eq!(app.play.playhead, Some(1), "no packet before the first");
}

#[test]
fn play_from_the_list_visits_frames_in_order() {
    let name = "tcp-lossy-client-side.pcap";
    let want = sorted_frames(name);
    let mut app = single(name);
    press(&mut app, KeyCode::Char('p'));
    assert!(app.play.playing);
    let mut seen = vec![app.play.playhead.unwrap()];
    // Small ticks at the top speed: each moves the playhead by at most a few packets.
    while app.play.speed < SPEEDS.len() - 1 {
        press(&mut app, KeyCode::Char('+'));
    }
    for _ in 0..1_000_000 {
        if !app.play.playing {
            break;
        }
        app.update(Action::Tick(1_000_000));
        let f = app.play.playhead.unwrap();
        if seen.last() != Some(&f) {
            seen.push(f);
        }
    }
    assert!(!app.play.playing, "playback stops at the end");
    // Packets with the same timestamp go by in one tick: the frames seen are an increasing
    // subsequence of the capture's, from the first to the last.
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!(seen.iter().all(|f| want.binary_search(f).is_ok()));
    assert_eq!(seen.first(), want.first());
    assert_eq!(seen.last(), want.last());
}

#[test]
fn stepping_across_the_capture_selects_the_row_of_the_packet() {
    let mut app = multi();
    // Reversed: the lossy connection (index 2 of 5) is on row 2; frames past 500 are only its.
    press(&mut app, KeyCode::Char('S'));
    assert_eq!(app.table.visible, vec![4, 3, 2, 1, 0]);
    app.table.sel = 0;
    app.play.playhead = Some(500);
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.play.playhead, Some(501));
    assert_eq!(app.table.sel, 2);
    assert_eq!(app.selected_conn(), Some(2));
    // Filtered out, the connection has no row: the selection stays.
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "refused");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.table.visible.len(), 1);
    assert_eq!(app.table.sel, 0);
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.play.playhead, Some(502));
    assert_eq!(app.table.sel, 0);
    assert_eq!(app.visible_row(2), None);
    assert_eq!(app.visible_row(app.table.visible[0]), Some(0));
}

#[test]
fn step_with_no_packets_ends_without_a_playhead() {
    let mut app = App::new("empty");
    app.update(Action::Resize(120, 40));
    app.finish_loading(load("http-get.pcap").stats);
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.play.playhead, None);
    assert_eq!(app.message.as_deref(), Some("end of capture"));
}
