//! Snapshots of the ladder on the lossy download (issue 13 §6) at 80x24 and 160x45: at
//! the start (handshake, request, first data) and at the first anomaly (`n`), without
//! colour. The capture's times are fixed, no wall-clock value appears.

mod common;

use common::ui::{cap, load, press, screen};
use crossterm::event::KeyCode;
use tcpscope::capture::Source;
use tcpscope::ui::action::Action;
use tcpscope::ui::app::App;
use tcpscope::ui::load_wanted;

fn ladder(w: u16, h: u16, to_first_anomaly: bool) -> String {
    let name = "http-lossy-download.pcap";
    let mut app = App::new(name);
    app.color = false;
    app.update(Action::Resize(w, h));
    app.set_loaded(load(name));
    app.open_row(0);
    if to_first_anomaly {
        press(&mut app, KeyCode::Char('n'));
    }
    load_wanted(&mut app, &Source::File(cap(name)));
    screen(&app)
}

#[test]
fn lossy_ladder_80x24() {
    insta::assert_snapshot!("lossy_ladder_80x24_start", ladder(80, 24, false));
    insta::assert_snapshot!("lossy_ladder_80x24_first_anomaly", ladder(80, 24, true));
}

#[test]
fn lossy_ladder_160x45() {
    insta::assert_snapshot!("lossy_ladder_160x45_start", ladder(160, 45, false));
    insta::assert_snapshot!("lossy_ladder_160x45_first_anomaly", ladder(160, 45, true));
}
