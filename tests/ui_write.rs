//! The TUI's `w`: the selected connection's frames to `tcpscope-conn-N.pcap`, never over
//! an existing file, the status bar saying where; through the real key map and the
//! runtime's write step (`ui::save::write_wanted`), into a temporary folder.

mod common;

use common::rawpcap;
use common::ui::{cap, press, screen, single};
use crossterm::event::KeyCode;
use tcpscope::capture::Source;
use tcpscope::ui::action::{Action, map_key};
use tcpscope::ui::app::Screen;
use tcpscope::ui::save::write_wanted;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tcpscope-uiw-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn w_writes_the_connection_under_the_cursor_and_never_overwrites() {
    let dir = tmp("list");
    let mut app = single("http-keepalive.pcap");
    let src = Source::File(cap("http-keepalive.pcap"));
    assert_eq!(
        map_key(&app.key_context(), common::ui::key(KeyCode::Char('w'))),
        Some(Action::WritePcap)
    );
    press(&mut app, KeyCode::Char('w'));
    write_wanted(&mut app, Some(&src), &dir);
    let first = dir.join("tcpscope-conn-1.pcap");
    let msg = app.message.clone().unwrap();
    assert_eq!(
        msg,
        format!("wrote connection 1 (21 frames) to {}", first.display())
    );
    // The temporary folder's long path needs a wide bar (in use it is `./tcpscope-conn-1.pcap`).
    app.size = (250, 40);
    assert!(screen(&app).contains(&msg), "status bar: {}", screen(&app));
    let (_, src_recs) = rawpcap::read(&cap("http-keepalive.pcap"));
    let (lt, recs) = rawpcap::read(&first);
    assert_eq!(lt, 1);
    assert_eq!(
        recs, src_recs,
        "every frame, byte for byte, with its timestamp"
    );
    // Again: a numbered name, the first file untouched.
    let before = std::fs::read(&first).unwrap();
    press(&mut app, KeyCode::Char('w'));
    write_wanted(&mut app, Some(&src), &dir);
    let second = dir.join("tcpscope-conn-1-2.pcap");
    assert_eq!(std::fs::read(&first).unwrap(), before);
    assert_eq!(std::fs::read(&second).unwrap(), before);
    assert!(
        app.message
            .clone()
            .unwrap()
            .ends_with("tcpscope-conn-1-2.pcap")
    );
    // Nothing asked: nothing written.
    write_wanted(&mut app, Some(&src), &dir);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
}

#[test]
fn w_in_an_open_connection_writes_that_one_only() {
    let dir = tmp("open");
    let merged = dir.join("several.pcap");
    rawpcap::several_connections(&merged);
    let mut app = tcpscope::ui::app::App::new("several");
    app.update(Action::Resize(120, 40));
    app.set_loaded(tcpscope::ui::loader::load(&Source::File(merged.clone()), |_| {}).unwrap());
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Connection);
    let c = app.conn().unwrap();
    let (id, n) = (c.id, c.packets.client + c.packets.server);
    let frames: Vec<u64> = tcpscope::ui::model::packets(c)
        .iter()
        .map(|p| p.frame)
        .collect();
    press(&mut app, KeyCode::Char('w'));
    write_wanted(&mut app, Some(&Source::File(merged.clone())), &dir);
    let (_, all) = rawpcap::read(&merged);
    let (_, got) = rawpcap::read(&dir.join(format!("tcpscope-conn-{id}.pcap")));
    assert_eq!(got.len() as u64, n);
    let want: Vec<_> = frames
        .iter()
        .map(|f| all[(*f - 1) as usize].clone())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn w_on_standard_input_or_live_says_why_not() {
    let mut app = single("http-get.pcap");
    press(&mut app, KeyCode::Char('w'));
    write_wanted(&mut app, Some(&Source::Stdin), &tmp("stdin"));
    assert!(
        app.message
            .clone()
            .unwrap()
            .contains("standard input cannot be read again")
    );
    press(&mut app, KeyCode::Char('w'));
    write_wanted(&mut app, None, &tmp("live"));
    assert!(app.message.unwrap().contains("-w"));
}
