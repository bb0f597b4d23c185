//! The terminal UI (ratatui + crossterm): `tcpscope FILE` / `tcpscope open FILE`.
//!
//! The entry of the file UI (standard input is spooled to a file first); the terminal and
//! the one event loop (file, standard input and live alike) are in `run`, the live
//! capture as an input source in `live`. State and its transitions live in `app` (per-view
//! state in `table`, `conn_view`, `playback`; where-am-I enums in `screen`)
//! (pure: Key -> Action -> update), drawing in `view` (reads `&App`), loading on a thread
//! in `loader` (beyond a budget, connections kept as compact records and analysed again
//! from the file when opened: `compact`), re-reading bytes on demand in `bytes`, and
//! geometry shared by state and views in `layout`. Text for people comes from `crate::explain` and `crate::escape`.
//! No core module depends on anything here.

pub mod action;
pub mod anomalies;
pub mod app;
pub mod bytes;
pub mod compact;
pub mod conn_view;
pub mod fit;
pub mod http_detail;
pub mod keys;
pub mod layout;
pub mod live;
pub mod loader;
pub mod model;
pub mod playback;
pub mod quiz;
pub mod row;
pub mod run;
pub mod save;
pub mod screen;
pub mod table;
pub mod theme;
pub mod timing;
pub mod view;

use crate::capture::Source;
use action::Action;
use app::App;
use std::io;

/// Options of `tcpscope open`.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub file: String,
    pub present: bool,
}

/// Bytes of each direction's stream kept for the Stream tab.
pub const STREAM_CAP: u64 = 8 << 20;

/// Load into `app` whatever bytes the current view asks for (hex dump, stream). What is
/// cached answers only the frame or connection it was read for: a failure is kept (not
/// read again each frame) while the same packet stays selected, and another is read anew.
pub fn load_wanted(app: &mut App, source: &Source) {
    reanalyse_opened(app, source);
    save::write_wanted(app, Some(source), std::path::Path::new("."));
    if let Some(fr) = app.wanted_frame() {
        let have = match &app.frame_bytes {
            Some(Ok(b)) => b.frame == fr,
            Some(Err(e)) => e.is_for(fr),
            None => false,
        };
        if !have {
            app.frame_bytes =
                Some(bytes::read_frame(source, fr).map_err(|e| bytes::BytesError::of(fr, e)));
        }
    }
    if let Some(id) = app.wanted_stream() {
        let have = match &app.stream {
            Some(Ok(s)) => s.conn_id == id,
            Some(Err(e)) => e.is_for(id),
            None => false,
        };
        if !have && let Some(c) = app.conn() {
            let r = crate::stream::rebuild_stream(source, c, STREAM_CAP)
                .map_err(|e| bytes::BytesError::of(id, e));
            app.stream = Some(r);
        }
    }
}

/// The connection opened is kept compact: make its whole analysis again from the file
/// (once; a failure is said and not retried for it).
fn reanalyse_opened(app: &mut App, source: &Source) {
    let Some(i) = app
        .conn_view
        .conn
        .filter(|_| app.screen == app::Screen::Connection)
    else {
        return;
    };
    let Some(d) = app.data.as_mut().filter(|d| d.needs_reanalysis(i)) else {
        return;
    };
    let c = &d.rows[i];
    match compact::reanalyse(source, c) {
        Ok(full) => d.opened = Some((i, Box::new(full))),
        Err(e) => {
            app.message = Some(format!(
                "connection {}: {}",
                c.id,
                crate::escape::escape(&e)
            ));
            d.failed = Some(i);
        }
    }
}

/// Open the TUI on a capture; returns when the user quits.
pub fn run(opts: Options) -> anyhow::Result<()> {
    run_with(opts, &mut |_| {})
}

/// `run` with a hook that sees the app before each frame is drawn (the demo's replay
/// starts stepping with it, `tcpscope quiz` starts the quiz).
pub fn run_with(opts: Options, hook: &mut dyn FnMut(&mut App)) -> anyhow::Result<()> {
    let mut source = Source::from_arg(&opts.file);
    let mut title = source.display();
    // Fail before touching the terminal when the file cannot be opened at all.
    crate::capture::check(&source)?;
    if matches!(source, Source::Stdin) {
        use std::io::IsTerminal;
        if io::stdin().is_terminal() {
            anyhow::bail!(
                "`-` reads a capture from standard input, but it is the terminal; pipe one in (`tcpdump -w - | tcpscope -`, `zcat x.pcap.gz | tcpscope -`) or give a file"
            );
        }
    }
    let (_guard, mut term) = run::enter_terminal(&format!("tcpscope report {}", opts.file))?;
    // Standard input is copied to a temporary file as it arrives (the views re-read frames
    // from the file); the keys come from the terminal itself.
    // A compressed file too, decompressed into the copy as it is read.
    use crate::capture::{spool::Spool, unpack};
    let _spool = match &source {
        Source::Stdin => {
            let spool = Spool::from_reader(unpack::auto(io::stdin())).map_err(|e| {
                anyhow::anyhow!("cannot make a temporary copy of standard input: {e}")
            })?;
            source = Source::File(spool.path.clone());
            title = "standard input".into();
            Some(spool)
        }
        Source::File(p) if unpack::of_file(p).is_some() => {
            let file = std::fs::File::open(p).map_err(|e| anyhow::anyhow!("{title}: {e}"))?;
            let spool = Spool::from_reader(unpack::auto(file)).map_err(|e| {
                anyhow::anyhow!("{title}: cannot make a decompressed temporary copy: {e}")
            })?;
            source = Source::File(spool.path.clone());
            Some(spool)
        }
        _ => None,
    };
    let mut input = loader::FileInput::spawn(source);
    let mut app = App::new(&title);
    app.color = App::color_from_env();
    app.present = opts.present;
    let sz = term.size()?;
    app.update(Action::Resize(sz.width, sz.height));
    run::event_loop(&mut term, &mut app, &mut input, hook)?;
    drop(term);
    Ok(())
}
