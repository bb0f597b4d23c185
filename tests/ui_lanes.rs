//! The Lanes tab (issue 16): a connection's HTTP/2 streams, or HTTP/1.1 exchanges, as
//! lanes over time: request sent `▶`, waiting `·`, response first to last byte `█`,
//! with stream id, method and path, status and total time; `7` opens it. HTTP/2 lanes
//! overlap (multiplexing), a keep-alive HTTP/1.1 connection's follow one another.

mod common;

use common::ui::{cap, key, load, screen};
use crossterm::event::KeyCode;
use tcpscope::capture::Source;
use tcpscope::ui::action::{Action, map_key};
use tcpscope::ui::app::{App, Tab};
use tcpscope::ui::load_wanted;

fn lanes(name: &str, w: u16, h: u16) -> (App, String) {
    let mut app = App::new(name);
    app.color = false;
    app.update(Action::Resize(w, h));
    app.set_loaded(load(name));
    app.open_row(0);
    let a = map_key(&app.key_context(), key(KeyCode::Char('7'))).expect("7 is mapped");
    assert_eq!(a, Action::SelectTab(Tab::Lanes));
    app.update(a);
    load_wanted(&mut app, &Source::File(cap(name)));
    let s = screen(&app);
    (app, s)
}

/// The lane row of `id` (its first cell).
fn row<'a>(s: &'a str, id: &str) -> &'a str {
    s.lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .unwrap_or_else(|| panic!("{id}: {s}"))
}

/// The cells of a row's bar: between the first two `│`.
fn bar(r: &str) -> Vec<char> {
    let v: Vec<char> = r.chars().collect();
    let a = v.iter().position(|&c| c == '│').unwrap();
    let b = a + 1 + v[a + 1..].iter().position(|&c| c == '│').unwrap();
    v[a + 1..b].to_vec()
}

#[test]
fn h2_streams_overlap_at_160x45() {
    let (_, s) = lanes("h2-nghttp-multi.pcap", 160, 45);
    assert!(s.contains("7 Lanes"), "{s}");
    assert!(
        s.contains("HTTP/2: 4 streams on one connection, at the same time (multiplexed)"),
        "{s}"
    );
    for id in ["s13", "s15", "s17", "s19"] {
        let r = row(&s, id);
        assert!(r.contains(" 200 "), "{r}");
        let b = bar(r);
        assert_eq!(b.iter().filter(|&&c| c == '▶').count(), 1, "{r}");
        assert!(b.contains(&'█'), "{r}");
    }
    assert!(row(&s, "s13").contains("GET /"), "{s}");
    // Multiplexed: s15's response starts before s13's ends (tshark: s13's last DATA at
    // frame 19, s15's first at 13).
    let (b13, b15) = (bar(row(&s, "s13")), bar(row(&s, "s15")));
    let end13 = b13.iter().rposition(|&c| c == '█').unwrap();
    let start15 = b15.iter().position(|&c| c == '█').unwrap();
    assert!(start15 < end13, "{s}");
    assert!(
        s.contains("▶ request sent  · waiting  █ response, first to last byte"),
        "{s}"
    );
    insta::assert_snapshot!("lanes_h2_160x45", s);
}

#[test]
fn h2_streams_at_80x24_whole_numbers() {
    let (_, s) = lanes("h2-nghttp-multi.pcap", 80, 24);
    assert!(s.contains("7 Lanes"), "{s}");
    assert!(row(&s, "s13").contains(" 200 "), "{s}");
    for l in s.lines() {
        assert!(tcpscope::ui::fit::width(l) <= 80, "{l}");
    }
    insta::assert_snapshot!("lanes_h2_80x24", s);
}

#[test]
fn http11_keep_alive_lanes_one_at_a_time() {
    let (_, s) = lanes("http-keepalive.pcap", 160, 45);
    assert!(s.contains("HTTP/1.1: "), "{s}");
    assert!(s.contains("one at a time"), "{s}");
    let (b1, b2) = (bar(row(&s, "#1")), bar(row(&s, "#2")));
    // The second request goes after the first response's last byte.
    let end1 = b1.iter().rposition(|&c| c == '█').unwrap();
    let sent2 = b2.iter().position(|&c| c == '▶').unwrap();
    assert!(sent2 >= end1, "{s}");
    insta::assert_snapshot!("lanes_http11_keepalive_160x45", s);
    let (_, s) = lanes("http-keepalive.pcap", 80, 24);
    insta::assert_snapshot!("lanes_http11_keepalive_80x24", s);
}

#[test]
fn lanes_without_http_say_so_and_the_help_lists_the_tab() {
    let (_, s) = lanes("tcp-refused.pcap", 80, 24);
    assert!(s.contains("no HTTP exchanges on this connection"), "{s}");
    assert!(
        tcpscope::ui::keys::HELP
            .iter()
            .any(|(k, v)| k.starts_with("1-7") && v.contains("Lanes")),
        "help"
    );
}
