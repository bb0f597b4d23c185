//! Nothing on screen is ever cut into a wrong value: every view of every bundled capture
//! is drawn on `TestBackend` at 80x24, 100x30, 120x30 and 160x45 (and at random sizes by
//! a property test), and each number next to a label is parsed back out of the screen and
//! compared with the model: `seq=`, `ack=`, `len=`, `win=` and frame numbers and times
//! on the ladder, the packet list's columns, every `address:port`, the header tree's raw
//! numbers, the status bar's playhead, the HTTP list's sizes and the States list's frames.

mod common;

use common::ui::{cap, load, press, screen};
use crossterm::event::KeyCode;
use proptest::prelude::*;
use tcpscope::capture::Source;
use tcpscope::tcp::PacketRecord;
use tcpscope::ui::action::Action;
use tcpscope::ui::app::{App, Screen, Tab};
use tcpscope::ui::load_wanted;

const SIZES: [(u16, u16); 4] = [(80, 24), (100, 30), (120, 30), (160, 45)];

fn captures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(cap(""))
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            n.ends_with(".pcap").then_some(n)
        })
        .collect();
    v.sort();
    assert!(v.len() >= 20, "bundled captures: {v:?}");
    v
}

fn app_on(name: &str) -> (App, Source) {
    let mut app = App::new(name);
    app.color = false;
    app.set_loaded(load(name));
    (app, Source::File(cap(name)))
}

/// The digits right after `label` in `s` (None when the label is absent or no digit
/// follows).
fn num_after(s: &str, label: &str) -> Option<u64> {
    let i = s.find(label)? + label.len();
    let d: String = s[i..].chars().take_while(|c| c.is_ascii_digit()).collect();
    d.parse().ok()
}

/// Nanoseconds of a decimal seconds string, and its number of decimals.
fn parse_secs(t: &str) -> Option<(i64, usize)> {
    let (a, b) = t.split_once('.').unwrap_or((t, ""));
    if a.is_empty()
        || !a.chars().all(|c| c.is_ascii_digit())
        || !b.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let s: i64 = a.parse().ok()?;
    let frac: i64 = if b.is_empty() { 0 } else { b.parse().ok()? };
    Some((
        s * 1_000_000_000 + frac * 10i64.pow(9 - b.len() as u32),
        b.len(),
    ))
}

/// `shown` (ns, `d` decimals) is `t` rounded to `d` decimals, and tells `t` from the
/// neighbours that differ from it.
fn check_time(shown: (i64, usize), t: i64, nb: &[i64], ctx: &str) {
    let (v, d) = shown;
    let unit = 10i64.pow(9 - d as u32);
    assert!(
        (v - t).abs() * 2 <= unit,
        "{ctx}: time {v} ns shown for {t} ns ({d} decimals)"
    );
    let r = |x: i64| (x + unit / 2).div_euclid(unit);
    for &n in nb {
        assert!(
            n == t || r(n) != r(t),
            "{ctx}: time {t} and its neighbour {n} both read as {v} ({d} decimals)"
        );
    }
}

/// The relative times of the packets in `pk` by index (ns since the connection's first).
fn rel(all: &[PacketRecord], p: &PacketRecord) -> i64 {
    p.ts.0 - all[0].ts.0
}

/// Every `a.b.c.d:port` on screen is an endpoint of the capture, whole.
fn check_endpoints(app: &App, scr: &str, ctx: &str) {
    let d = app.data.as_ref().unwrap();
    let eps: Vec<String> = d
        .rows
        .iter()
        .flat_map(|c| [c.client.to_string(), c.server.to_string()])
        .collect();
    // The hex dump's ASCII column is bytes, cut where its lines are: left out.
    let text: String = scr
        .lines()
        .map(|l| l.split("││").next().unwrap_or(l).to_string() + "\n")
        .collect();
    for tok in text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':')) {
        let tok = tok.trim_matches(|c| c == '.' || c == ':');
        if tok.matches('.').count() == 3 && tok.contains(':') {
            assert!(
                eps.iter().any(|e| e == tok),
                "{ctx}: endpoint {tok:?} is none of {eps:?}\n{scr}"
            );
        }
    }
}

/// The ladder's rows: frame first, then its time, then the arrow's labelled numbers.
fn check_ladder(app: &App, scr: &str, ctx: &str) {
    let all = app.packets();
    let pk = app.visible_packets();
    let mut rows = 0;
    for line in scr.lines().skip(2) {
        if !(line.contains("│─") || line.contains("│◀")) {
            continue;
        }
        rows += 1;
        let mut toks = line.split_whitespace();
        let frame: u64 = toks
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("{ctx}: ladder row without a frame number: {line:?}"));
        let i = pk
            .iter()
            .position(|p| p.frame == frame)
            .unwrap_or_else(|| panic!("{ctx}: frame {frame} is not a revealed packet: {line:?}"));
        let p = &pk[i];
        let t = toks
            .next()
            .and_then(parse_secs)
            .unwrap_or_else(|| panic!("{ctx}: no time: {line:?}"));
        let mut nb = Vec::new();
        if i > 0 {
            nb.push(rel(all, &pk[i - 1]));
        }
        if let Some(n) = pk.get(i + 1) {
            nb.push(rel(all, n));
        }
        check_time(t, rel(all, p), &nb, &format!("{ctx} frame {frame}"));
        let win = p.window_scaled.unwrap_or(u64::from(p.window));
        for (label, want) in [
            ("seq=", u64::from(p.seq)),
            ("ack=", u64::from(p.ack)),
            ("len=", u64::from(p.len)),
            ("win=", win),
        ] {
            if let Some(v) = num_after(line, label) {
                assert_eq!(v, want, "{ctx} frame {frame}: {label} on {line:?}");
            }
        }
    }
    if !pk.is_empty() {
        assert!(rows > 0, "{ctx}: no ladder rows\n{scr}");
    }
}

/// The packet list's columns, located by the header's words.
fn check_packet_list(app: &App, scr: &str, ctx: &str) {
    let lines: Vec<&str> = scr.lines().collect();
    let Some(h) = lines
        .iter()
        .position(|l| l.trim_start().starts_with("frame"))
    else {
        panic!("{ctx}: no packet list header\n{scr}");
    };
    let head: Vec<char> = lines[h].chars().collect();
    // End column of each right-aligned header word.
    let end_of = |w: &str| -> Option<usize> {
        let s: String = head.iter().collect();
        let i = s.split_whitespace().position(|x| x == w)?;
        let mut col = 0;
        let mut k = 0;
        let mut in_word = false;
        for (c, ch) in head.iter().enumerate() {
            if *ch != ' ' && !in_word {
                in_word = true;
            } else if *ch == ' ' && in_word {
                in_word = false;
                if k == i {
                    return Some(col);
                }
                k += 1;
            }
            if in_word {
                col = c + 1;
            }
        }
        (k == i).then_some(col)
    };
    let all = app.packets();
    let pk = app.visible_packets();
    for line in lines.iter().skip(h + 1) {
        let chars: Vec<char> = line.chars().collect();
        let token_ending = |end: usize| -> String {
            let e = end.min(chars.len());
            let s = chars[..e]
                .iter()
                .rev()
                .take_while(|c| **c != ' ')
                .collect::<String>();
            s.chars().rev().collect()
        };
        let Some(frame) = end_of("frame").and_then(|e| token_ending(e).parse::<u64>().ok()) else {
            break;
        };
        let Some(i) = pk.iter().position(|p| p.frame == frame) else {
            break;
        };
        let p = &pk[i];
        let win = p.window_scaled.unwrap_or(u64::from(p.window));
        for (w, want) in [
            ("seq", u64::from(p.seq)),
            ("ack", u64::from(p.ack)),
            ("len", u64::from(p.len)),
            ("win", win),
        ] {
            if let Some(e) = end_of(w) {
                assert_eq!(
                    token_ending(e),
                    want.to_string(),
                    "{ctx} frame {frame} {w}: {line:?}"
                );
            }
        }
        if let Some(e) = end_of("time") {
            let t =
                parse_secs(&token_ending(e)).unwrap_or_else(|| panic!("{ctx}: time of {line:?}"));
            let mut nb = Vec::new();
            if i > 0 {
                nb.push(rel(all, &pk[i - 1]));
            }
            if let Some(n) = pk.get(i + 1) {
                nb.push(rel(all, n));
            }
            check_time(t, rel(all, p), &nb, &format!("{ctx} list frame {frame}"));
        }
    }
}

/// The header tree's raw numbers are those of the decoded fields.
fn check_tree(app: &App, scr: &str, ctx: &str) {
    let Some(Ok(fb)) = app.selected_frame_bytes() else {
        return;
    };
    let tree = fb.tree();
    for line in scr.lines() {
        if let Some(v) = num_after(line, "(raw): ") {
            let want = format!("(raw): {v}");
            assert!(
                tree.iter()
                    .any(|f| f.text.ends_with(&want) || f.text.contains(&format!("{want} "))),
                "{ctx}: {line:?} has a raw number no field has"
            );
        }
    }
}

fn check_common(app: &App, scr: &str, ctx: &str) {
    check_endpoints(app, scr, ctx);
    let status = scr.lines().last().unwrap_or("");
    if let (Some(f), Some(ph)) = (num_after(status, "playhead: frame "), app.play.playhead) {
        assert_eq!(f, ph, "{ctx}: status {status:?}");
        let total = app.data.as_ref().unwrap().stats.packets;
        if let Some(t) = num_after(status, &format!("frame {f}/")) {
            assert_eq!(t, total, "{ctx}: status {status:?}");
        }
    }
}

fn check_tab(app: &App, scr: &str, ctx: &str) {
    match app.conn_view.tab {
        Tab::Ladder => check_ladder(app, scr, ctx),
        Tab::Packets => {
            check_packet_list(app, scr, ctx);
            check_tree(app, scr, ctx);
        }
        Tab::Http => {
            let c = app.conn().unwrap();
            for line in scr.lines().skip(2) {
                if let Some(b) = num_after(line, "(")
                    && line.contains(" B")
                    && line.contains(&format!("({b} B"))
                    && line.contains("→")
                {
                    assert!(
                        c.http.iter().any(|x| x
                            .response
                            .as_ref()
                            .is_some_and(|r| r.body_bytes_decoded == b)),
                        "{ctx}: size {b} is no response's: {line:?}"
                    );
                }
            }
        }
        Tab::States => {
            let s = app.conn().unwrap().summary.as_ref().unwrap();
            let frames: Vec<u64> = s
                .states
                .client
                .iter()
                .chain(&s.states.server)
                .map(|t| t.frame)
                .collect();
            for line in scr.lines() {
                let mut t = line.split_whitespace();
                if let (Some(f), Some("client" | "server")) =
                    (t.next().and_then(|x| x.parse::<u64>().ok()), t.next())
                {
                    assert!(frames.contains(&f), "{ctx}: transition frame {f}: {line:?}");
                }
            }
        }
        // The graph draws points, its axis labels are whole numbers of the model (tests/diagram_tui.rs).
        Tab::Stream | Tab::Graph => {}
        // A lane's status is one of the connection's responses' (or `…`: not seen yet).
        Tab::Lanes => {
            let c = app.conn().unwrap();
            for line in scr.lines().skip(2).filter(|l| l.contains('│')) {
                let Some(st) = line
                    .split('│')
                    .next()
                    .and_then(|h| h.split_whitespace().last())
                else {
                    continue;
                };
                if let Ok(n) = st.parse::<u16>() {
                    assert!(
                        c.http
                            .iter()
                            .any(|x| x.response.as_ref().is_some_and(|r| r.status == n)),
                        "{ctx}: status {n} is no response's: {line:?}"
                    );
                }
            }
        }
    }
}

/// Draw `app` at `w`x`h` and check every view of its connections `conns` (all tabs, a
/// packet in the middle selected, at the end and stepping).
fn check_app(app: &mut App, src: &Source, name: &str, w: u16, h: u16, conns: usize) {
    app.update(Action::Resize(w, h));
    let ctx = format!("{name} {w}x{h}");
    let scr = screen(app);
    check_common(app, &scr, &format!("{ctx} list"));
    let n = app.data.as_ref().unwrap().len();
    for ci in 0..n.min(conns) {
        for stepping in [false, true] {
            app.update(Action::Back);
            app.quit = false;
            app.update(Action::PlayheadEnd);
            app.open_row(ci);
            if app.screen != Screen::Connection {
                continue;
            }
            if stepping {
                press(app, KeyCode::Home);
                for _ in 0..3 {
                    press(app, KeyCode::Char(' '));
                }
            } else {
                let mid = app.visible_packets().len() / 2;
                for _ in 0..mid {
                    press(app, KeyCode::Down);
                }
            }
            for t in Tab::ALL {
                app.update(Action::SelectTab(t));
                load_wanted(app, src);
                let scr = screen(app);
                let ctx = format!("{ctx} conn {ci} {t:?} stepping={stepping}");
                check_common(app, &scr, &ctx);
                check_tab(app, &scr, &ctx);
            }
        }
    }
    app.update(Action::Back);
    app.update(Action::PlayheadEnd);
    app.quit = false;
}

#[test]
fn every_view_of_every_capture_shows_whole_numbers() {
    for name in captures() {
        let (mut app, src) = app_on(&name);
        for (w, h) in SIZES {
            check_app(&mut app, &src, &name, w, h, 3);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn any_size_shows_whole_numbers(w in 60u16..=200, h in 20u16..=60, k in 0usize..64) {
        let caps = captures();
        let name = &caps[k % caps.len()];
        let (mut app, src) = app_on(name);
        check_app(&mut app, &src, name, w, h, 2);
    }
}
