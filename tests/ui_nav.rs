//! Navigation a class can follow (issue 13 §2), as pure key updates: `:N` and `g N` jump
//! to frame N, `n` / `N` to the next / previous anomaly, the anomaly list (`e`) grouped
//! by severity and kind with Enter jumping to a frame, playback paced one packet per
//! second or stopping at each anomaly, driven by a fake clock (no sleep); the help
//! scrolls at 80x24 and lists every key; without colour the sides stay apart.

mod common;

use common::ui::{load, press, screen, single, typed};
use crossterm::event::KeyCode;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;
use tcpscope::tcp::analysis::Flag;
use tcpscope::ui::action::Action;
use tcpscope::ui::anomalies::{Entry, Kind, Severity, severity};
use tcpscope::ui::app::{App, Screen, Tab};
use tcpscope::ui::model::{Loaded, packets};
use tcpscope::ui::playback::Clock;
use tcpscope::ui::run::Pacer;

/// The frames of the packets of connection `ci` with an analysis finding.
fn anomalous(app: &App, ci: usize) -> Vec<u64> {
    let c = app.data.as_ref().unwrap().conn(ci).unwrap();
    packets(c)
        .iter()
        .filter(|p| !p.analysis.is_empty())
        .map(|p| p.frame)
        .collect()
}

fn selected_frame(app: &App) -> u64 {
    app.visible_packets()[app.conn_view.pkt_sel].frame
}

#[test]
fn colon_n_jumps_to_a_frame_and_moves_the_playhead_while_stepping() {
    let mut app = single("http-lossy-download.pcap");
    press(&mut app, KeyCode::Enter);
    typed(&mut app, ":57");
    assert_eq!(app.goto.as_deref(), Some("57"));
    assert!(screen(&app).contains("go to frame: 57"), "{}", screen(&app));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.goto, None);
    assert_eq!(selected_frame(&app), 57);
    assert_eq!(
        app.play.playhead, None,
        "at the end, only the selection moves"
    );
    // Stepping: the playhead follows the jump, forward and back.
    press(&mut app, KeyCode::Home);
    typed(&mut app, ":9");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.play.playhead, Some(9));
    assert_eq!(app.visible_packets().last().unwrap().frame, 9);
    assert_eq!(selected_frame(&app), 9);
    typed(&mut app, "g3");
    assert_eq!(
        app.goto.as_deref(),
        Some("3"),
        "g then a digit opens the prompt"
    );
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.play.playhead, Some(3));
    assert_eq!(selected_frame(&app), 3);
    // Esc cancels; Backspace edits.
    typed(&mut app, ":12");
    press(&mut app, KeyCode::Backspace);
    assert_eq!(app.goto.as_deref(), Some("1"));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.goto, None);
    assert_eq!(app.screen, Screen::Connection, "Esc closed the prompt only");
    // A frame of no connection says so.
    typed(&mut app, ":999999");
    press(&mut app, KeyCode::Enter);
    assert!(
        app.message
            .as_deref()
            .unwrap()
            .contains("frame 999999 is in no connection")
    );
    assert_eq!(app.play.playhead, Some(3));
}

#[test]
fn colon_n_from_the_list_opens_the_frames_connection() {
    let mut conns = Vec::new();
    let mut stats = None;
    for n in ["http-get.pcap", "tcp-refused.pcap"] {
        let l = load(n);
        stats.get_or_insert(l.stats.clone());
        conns.extend(l.into_records());
    }
    let mut app = App::new("two");
    app.update(Action::Resize(120, 40));
    app.set_loaded(Loaded::new(stats.unwrap(), conns));
    // The second connection's last frame.
    let c1 = app.data.as_ref().unwrap().conn(1).unwrap();
    let f = packets(c1).last().unwrap().frame;
    let id = c1.id;
    typed(&mut app, &format!(":{f}"));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Connection);
    assert_eq!(app.conn().unwrap().id, id);
    assert_eq!(selected_frame(&app), f);
}

#[test]
fn n_and_shift_n_walk_the_anomalies() {
    let mut app = single("tcp-lossy-client-side.pcap");
    press(&mut app, KeyCode::Enter);
    let want = anomalous(&app, 0);
    assert!(want.len() >= 3, "{want:?}");
    press(&mut app, KeyCode::Char('g'));
    for f in &want[..3] {
        press(&mut app, KeyCode::Char('n'));
        assert_eq!(selected_frame(&app), *f);
    }
    press(&mut app, KeyCode::Char('N'));
    assert_eq!(selected_frame(&app), want[1]);
    // While stepping, `n` reveals up to the next anomaly and no further.
    press(&mut app, KeyCode::Home);
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(app.play.playhead, Some(want[0]));
    assert_eq!(app.visible_packets().last().unwrap().frame, want[0]);
    press(&mut app, KeyCode::Char('N'));
    assert_eq!(app.message.as_deref(), Some("no earlier anomaly"));
    // From the list: the capture's first anomaly, in its connection.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::End);
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(app.screen, Screen::Connection);
    assert_eq!(selected_frame(&app), want[0]);
}

#[test]
fn anomaly_list_groups_by_severity_and_kind_and_enter_jumps() {
    let mut app = single("tcp-lossy-client-side.pcap");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('e'));
    let l = app.anomalies.clone().expect("open");
    // Counts per kind equal the model's.
    let c = app.data.as_ref().unwrap().conn(0).unwrap();
    for g in &l.groups {
        let n = match g.kind {
            Kind::Tcp(flag) => {
                assert_eq!(g.severity, severity(flag));
                packets(c)
                    .iter()
                    .filter(|p| p.analysis.iter().any(|f| f.flag() == flag))
                    .count()
            }
            Kind::Http(k) => c
                .http
                .iter()
                .flat_map(|x| &x.anomalies)
                .filter(|a| a.kind() == k)
                .count(),
        };
        assert_eq!(g.items.len(), n, "{:?}", g.kind);
    }
    // Most severe first.
    assert!(l.groups.windows(2).all(|w| w[0].severity <= w[1].severity));
    assert_eq!(severity(Flag::LostSegment), Severity::Warning);
    assert_eq!(severity(Flag::Retransmission), Severity::Note);
    let scr = screen(&app);
    let g0 = &l.groups[0];
    assert!(
        scr.contains(&format!("{} ({})", g0.kind.label(), g0.items.len())),
        "{scr}"
    );
    // Down to the first group's second finding, Enter: there.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    assert!(app.anomalies.is_none());
    assert_eq!(selected_frame(&app), g0.items[1].frame);
    // While stepping, only findings up to the playhead are listed.
    press(&mut app, KeyCode::Home);
    let first = anomalous(&app, 0)[0];
    typed(&mut app, &format!(":{first}"));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('e'));
    let l = app.anomalies.as_ref().unwrap();
    let shown: Vec<u64> = l
        .entries(app.play.playhead)
        .iter()
        .filter_map(|e| match e {
            Entry::Item(i) => Some(i.frame),
            Entry::Header(..) => None,
        })
        .collect();
    assert!(
        !shown.is_empty() && shown.iter().all(|f| *f <= first),
        "{shown:?}"
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.anomalies.is_none());
    assert_eq!(app.screen, Screen::Connection);
}

/// A clock the test moves by hand.
#[derive(Clone, Default)]
struct FakeClock(Rc<Cell<Duration>>);

impl FakeClock {
    fn advance(&self, ms: u64) {
        self.0.set(self.0.get() + Duration::from_millis(ms));
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        self.0.get()
    }
}

#[test]
fn one_packet_per_second_on_a_fake_clock() {
    let mut app = single("http-lossy-download.pcap");
    press(&mut app, KeyCode::Enter);
    let clock = FakeClock::default();
    let mut pacer = Pacer::new(clock.clone());
    press(&mut app, KeyCode::Char('m'));
    assert!(screen(&app).contains("1 pkt/s"), "{}", screen(&app));
    press(&mut app, KeyCode::Home);
    press(&mut app, KeyCode::Char('p'));
    let start = app.visible_packets().len();
    clock.advance(999);
    pacer.advance(&mut app);
    assert_eq!(app.visible_packets().len(), start, "not before a second");
    clock.advance(1);
    pacer.advance(&mut app);
    assert_eq!(app.visible_packets().len(), start + 1);
    for _ in 0..5 {
        clock.advance(1000);
        pacer.advance(&mut app);
    }
    assert_eq!(app.visible_packets().len(), start + 6);
    // x2: two a second.
    press(&mut app, KeyCode::Char('+'));
    clock.advance(1000);
    pacer.advance(&mut app);
    assert_eq!(app.visible_packets().len(), start + 8);
    // Paused: the clock runs on, nothing moves.
    press(&mut app, KeyCode::Char('p'));
    clock.advance(10_000);
    pacer.advance(&mut app);
    assert_eq!(app.visible_packets().len(), start + 8);
}

#[test]
fn playback_stops_at_each_anomaly() {
    let mut app = single("tcp-lossy-client-side.pcap");
    press(&mut app, KeyCode::Enter);
    let want = anomalous(&app, 0);
    let clock = FakeClock::default();
    let mut pacer = Pacer::new(clock.clone());
    press(&mut app, KeyCode::Char('a'));
    assert!(screen(&app).contains("stop at ⚠"), "{}", screen(&app));
    for _ in 0..4 {
        press(&mut app, KeyCode::Char('+'));
    }
    press(&mut app, KeyCode::Home);
    press(&mut app, KeyCode::Char('p'));
    for f in &want[..2] {
        for _ in 0..100 {
            clock.advance(1000);
            pacer.advance(&mut app);
            if !app.play.playing {
                break;
            }
        }
        assert!(!app.play.playing);
        assert_eq!(app.play.playhead, Some(*f));
        assert!(
            app.message
                .as_deref()
                .unwrap()
                .contains(&format!("paused at frame {f}")),
            "{:?}",
            app.message
        );
        press(&mut app, KeyCode::Char('p'));
    }
}

#[test]
fn help_lists_every_key_and_scrolls_at_80x24() {
    let mut app = single("http-get.pcap");
    app.update(Action::Resize(80, 24));
    press(&mut app, KeyCode::Char('?'));
    let mut seen = String::new();
    for _ in 0..10 {
        seen.push_str(&screen(&app));
        press(&mut app, KeyCode::PageDown);
        assert!(app.help, "PgDn scrolls, it does not close");
    }
    let first = screen(&app);
    for k in [
        "Backspace",
        "mouse",
        "+  -",
        "z",
        ":N  g N",
        "n  N",
        "e",
        "m",
        "a",
        "?",
        "Home  End",
    ] {
        assert!(
            seen.contains(&format!(" {k}  ")),
            "{k} missing from the help:\n{seen}"
        );
    }
    for (k, _) in tcpscope::ui::view::HELP {
        assert!(seen.contains(k), "{k} missing");
    }
    press(&mut app, KeyCode::PageUp);
    assert_ne!(screen(&app), first, "PgUp scrolls back");
    press(&mut app, KeyCode::Char('x'));
    assert!(!app.help);
}

#[test]
fn without_colour_the_sides_stay_apart() {
    let mut app = single("http-get.pcap");
    app.color = false;
    let src = tcpscope::capture::Source::File(common::ui::cap("http-get.pcap"));
    press(&mut app, KeyCode::Enter);
    app.update(Action::SelectTab(Tab::Stream));
    tcpscope::ui::load_wanted(&mut app, &src);
    let s = screen(&app);
    assert!(s.contains("C: GET /"), "{s}");
    assert!(s.contains("S: HTTP/1.1 200"), "{s}");
    app.update(Action::SelectTab(Tab::Http));
    tcpscope::ui::load_wanted(&mut app, &src);
    let s = screen(&app);
    assert!(
        s.contains("H handshake") && s.contains("W waiting") && s.contains("T transfer"),
        "{s}"
    );
    let bar = s.lines().find(|l| l.contains('█')).expect("a timing bar");
    assert!(bar.contains('W') && bar.contains('T'), "{bar}");
}

#[test]
fn no_spoilers_while_stepping() {
    let mut app = single("http-get.pcap");
    let total = tcpscope::ui::model::packet_count(app.data.as_ref().unwrap().conn(0).unwrap());
    // The list: one packet in, the row counts one packet, and no handshake verdict yet.
    press(&mut app, KeyCode::Char(' '));
    let s = screen(&app);
    let row = s.lines().find(|l| l.starts_with("1 ")).expect("row 1");
    assert!(total > 1);
    assert_eq!(row.split_whitespace().last(), Some("1"), "{row}");
    assert!(!row.contains(&format!(" {total}")), "{row}");
    assert!(!row.contains("complete"), "{row}");
    // The ladder after the SYN alone: no iRTT bracket.
    press(&mut app, KeyCode::Enter);
    let s = screen(&app);
    assert!(!s.contains('┐') && !s.contains("iRTT"), "{s}");
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    let s = screen(&app);
    assert!(
        s.contains('┐') && s.contains("iRTT"),
        "once the ACK is in: {s}"
    );
}

/// HTTP anomalies are findings too: a response with both Content-Length and
/// Transfer-Encoding is listed under its own HTTP heading, at the response's frame, and
/// Enter goes there.
#[test]
fn anomaly_list_lists_http_anomalies_at_their_frame() {
    use common::pcapgen::Cap;
    let get = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
    let mut c = Cap::new();
    c.seg(0, true, "S", 100, 0, b"");
    c.seg(1000, false, "SA", 500, 101, b"");
    c.seg(2000, true, "A", 101, 501, b"");
    c.seg(3000, true, "PA", 101, 501, get);
    let after = 101 + get.len() as u32;
    c.seg(9000, false, "PA", 501, after, resp);
    c.seg(10000, true, "A", after, 501 + resp.len() as u32, b"");
    let path = c.write("ui-nav-http-anomaly");
    let data =
        tcpscope::ui::loader::load(&tcpscope::capture::Source::File(path), |_| {}).expect("load");
    let mut app = App::new("x.pcap");
    app.update(Action::Resize(120, 40));
    app.set_loaded(data);
    press(&mut app, KeyCode::Char('e'));
    let l = app.anomalies.clone().expect("open");
    let g = l
        .groups
        .iter()
        .find(|g| matches!(g.kind, Kind::Http(_)))
        .expect("an HTTP group");
    assert_eq!(g.items.len(), 1);
    assert_eq!(g.items[0].frame, 5);
    let scr = screen(&app);
    assert!(scr.contains("HTTP: "), "{scr}");
    assert!(scr.contains("frame 5"), "{scr}");
}
