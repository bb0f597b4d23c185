//! Driving the terminal UI without a terminal: bundled captures loaded into an `App`, keys
//! fed through the real key map, screens rendered on ratatui's `TestBackend`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::PathBuf;
use tcpscope::capture::Source;
use tcpscope::ui::action::{Action, map_key};
use tcpscope::ui::app::App;
use tcpscope::ui::model::Loaded;
use tcpscope::ui::{loader, view};

/// A bundled capture's path.
pub fn cap(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// A bundled capture, analysed as the UI does.
pub fn load(name: &str) -> Loaded {
    loader::load(&Source::File(cap(name)), |_| {}).expect("load")
}

/// An App on one bundled capture, 120×40.
pub fn single(name: &str) -> App {
    let mut app = App::new(name);
    app.update(Action::Resize(120, 40));
    app.set_loaded(load(name));
    app
}

pub fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// A key press through the UI's key map.
pub fn press(app: &mut App, c: KeyCode) {
    if let Some(a) = map_key(&app.key_context(), key(c)) {
        app.update(a);
    }
}

/// Each character of `s` pressed in turn.
pub fn typed(app: &mut App, s: &str) {
    for ch in s.chars() {
        press(app, KeyCode::Char(ch));
    }
}

/// The app drawn at its size, every cell as it is (no trimming: a stray control character
/// at a line's end stays visible to the test).
pub fn screen_raw(app: &App) -> String {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::render(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The app drawn at its size, each line's trailing blanks removed (for snapshots).
pub fn screen(app: &App) -> String {
    screen_raw(app)
        .lines()
        .map(|l| l.trim_end().to_string() + "\n")
        .collect()
}
