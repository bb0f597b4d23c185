//! The terminal UI (ratatui + crossterm): `tcpscope FILE` / `tcpscope open FILE`.
//!
//! Owns the terminal and the event loop only. State and its transitions live in `app`
//! (pure: Key -> Action -> update), drawing in `view` (reads `&App`), loading on a thread
//! in `loader`, re-reading bytes on demand in `bytes`, and geometry shared by state and
//! views in `layout`. Text for people comes from `crate::explain` and `crate::escape`.
//! No core module depends on anything here.

pub mod app;
pub mod bytes;
pub mod layout;
pub mod live;
pub mod loader;
pub mod model;
pub mod quiz;
pub mod theme;
pub mod view;

use crate::capture::Source;
use app::{Action, App};
use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use loader::LoadMsg;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io;
use std::sync::mpsc::TryRecvError;
use std::time::{Duration, Instant};

/// Options of `tcpscope open`.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub file: String,
    pub present: bool,
}

/// Bytes of each direction's stream kept for the Stream tab.
pub const STREAM_CAP: u64 = 8 << 20;

pub(crate) fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped (normal return and `?` errors).
pub(crate) struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Play the capture on by the wall-clock time since `last_tick` (when playing); the app
/// itself never reads the clock.
pub(crate) fn advance_playhead(app: &mut App, last_tick: &mut Instant) {
    let now = Instant::now();
    let dt = now.duration_since(*last_tick);
    *last_tick = now;
    if app.playing {
        app.update(Action::Tick(
            i64::try_from(dt.as_nanos()).unwrap_or(i64::MAX),
        ));
    }
}

/// The terminal the UIs draw on.
pub(crate) type Term = Terminal<CrosstermBackend<io::Stdout>>;

/// Take the terminal over: raw mode, alternate screen and mouse, restored by the returned
/// guard and by a panic hook. First checks there is a terminal to draw on and to read keys
/// from; `instead` names the command that gives the same facts without one.
pub(crate) fn enter_terminal(instead: &str) -> anyhow::Result<(Guard, Term)> {
    use std::io::IsTerminal;
    if !io::stdout().is_terminal() {
        anyhow::bail!(
            "the terminal UI draws on a terminal, and standard output is not one; for text or JSON use `{instead}`"
        );
    }
    #[cfg(unix)]
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
    {
        anyhow::bail!(
            "the terminal UI reads keys from the terminal, and there is none here (/dev/tty: {e}); for text or JSON use `{instead}`"
        );
    }
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        prev(info);
    }));
    enable_raw_mode()?;
    let guard = Guard;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    let mut term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    term.clear()?;
    Ok((guard, term))
}

/// Load into `app` whatever bytes the current view asks for (hex dump, stream). What is
/// cached answers only the frame or connection it was read for: a failure is kept (not
/// read again each frame) while the same packet stays selected, and another is read anew.
pub fn load_wanted(app: &mut App, source: &Source) {
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
    if let Source::File(p) = &source
        && let Err(e) = std::fs::File::open(p)
    {
        anyhow::bail!("{}: {e}", p.display());
    }
    if matches!(source, Source::Stdin) {
        use std::io::IsTerminal;
        if io::stdin().is_terminal() {
            anyhow::bail!(
                "`-` reads a capture from standard input, but it is the terminal; pipe one in (`tcpdump -w - | tcpscope -`, `zcat x.pcap.gz | tcpscope -`) or give a file"
            );
        }
    }
    let (_guard, mut term) = enter_terminal(&format!("tcpscope report {}", opts.file))?;
    // Standard input is copied to a temporary file as it arrives (the views re-read frames
    // from the file); the keys come from the terminal itself.
    let _spool = if matches!(source, Source::Stdin) {
        let spool = crate::capture::spool::Spool::from_stdin()
            .map_err(|e| anyhow::anyhow!("cannot make a temporary copy of standard input: {e}"))?;
        source = Source::File(spool.path.clone());
        title = "standard input".into();
        Some(spool)
    } else {
        None
    };
    let (rx, counters) = loader::spawn(source.clone());
    let total = loader::source_size(&source);
    let load_start = Instant::now();

    let mut app = App::new(&title);
    app.color = App::color_from_env();
    app.present = opts.present;
    let sz = term.size()?;
    app.update(Action::Resize(sz.width, sz.height));
    let mut last_tick = Instant::now();
    let mut loader_open = true;
    loop {
        if loader_open {
            app.loading = Some(loader::progress_of(total, &counters, load_start));
        }
        while loader_open {
            match rx.try_recv() {
                Ok(LoadMsg::Conns(v)) => app.add_conns(v),
                Ok(LoadMsg::Done(Ok(stats))) => {
                    app.finish_loading(*stats);
                    loader_open = false;
                }
                Ok(LoadMsg::Done(Err(e))) => {
                    app.error = Some(e);
                    app.loading = None;
                    loader_open = false;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if app.data.is_none() && app.error.is_none() {
                        app.error = Some("the loader stopped unexpectedly".into());
                    }
                    loader_open = false;
                }
            }
        }
        hook(&mut app);
        load_wanted(&mut app, &source);
        term.draw(|f| view::render(f, &app))?;
        if app.quit {
            break;
        }
        let timeout = if app.playing || loader_open {
            Duration::from_millis(30)
        } else {
            Duration::from_millis(250)
        };
        if event::poll(timeout)? {
            let action = match event::read()? {
                Event::Key(k) if k.kind != KeyEventKind::Release => app::map_key(&app, k),
                Event::Mouse(m) => app::map_mouse(m),
                Event::Resize(w, h) => Some(Action::Resize(w, h)),
                _ => None,
            };
            if let Some(a) = action {
                app.update(a);
            }
        }
        advance_playhead(&mut app, &mut last_tick);
    }
    drop(term);
    Ok(())
}
