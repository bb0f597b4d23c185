//! The terminal and the one event loop of the TUI, for a file, standard input and a live
//! capture alike: each frame the input source takes in what arrived ([`Input::pump`]),
//! the caller's hook runs, the source loads what the view wants ([`Input::prepare`]), the
//! screen is drawn, and a key, mouse or resize event becomes an [`Action`] for
//! [`App::update`]. Wall-clock time enters only here (a [`Pacer`] over the
//! [`SystemClock`]), as `Action::Tick` while playing.

use crate::ui::action::{self, Action};
use crate::ui::app::App;
use crate::ui::playback::{Clock, SystemClock};
use crate::ui::view;
use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// The signal (SIGTERM, SIGINT, SIGHUP) that asked the UI to end, 0 while none did.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The event loop saw [`SIGNAL`] and is ending the UI the normal way.
static SEEN: AtomicBool = AtomicBool::new(false);

/// The UI ended on a signal: the terminal is restored, the spool removed, a `-w` file
/// closed; the process exits with 128 + the signal's number.
#[derive(Debug, thiserror::Error)]
#[error("stopped by signal {0}")]
pub struct Interrupted(pub i32);

/// While the UI runs, SIGTERM, SIGINT and SIGHUP end it as `q` does (the event loop sees
/// them within a frame): terminal restored, spool removed, a `-w` file closed whole, exit
/// status 128 + signal. If the loop does not end within 5 s (stuck), the signal thread
/// restores the terminal, removes the spools and exits itself.
fn catch_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("tcpscope-signals".into())
            .spawn(move || {
                let Some(sig) = signals.forever().next() else {
                    return;
                };
                SIGNAL.store(sig, Ordering::SeqCst);
                let t = Instant::now();
                while t.elapsed() < Duration::from_secs(5) {
                    std::thread::sleep(Duration::from_millis(50));
                    if SEEN.load(Ordering::SeqCst) {
                        return;
                    }
                }
                restore_terminal();
                crate::capture::spool::remove_all();
                std::process::exit(128 + sig);
            });
    });
}

/// The signal that asked the UI to end, if one did.
fn signalled() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Where the data on screen comes from: a capture file being loaded, or a live capture.
pub(crate) trait Input {
    /// Take in what arrived since the last frame.
    fn pump(&mut self, app: &mut App);
    /// After the hook, before drawing: load the bytes the view wants, set the status.
    fn prepare(&mut self, app: &mut App);
    /// How long to wait for an event before the next frame.
    fn wait(&self, app: &App) -> Duration;
}

/// Run the UI on `input` until the user quits; `hook` sees the app before each frame is
/// drawn (after the input's news).
pub(crate) fn event_loop(
    term: &mut Term,
    app: &mut App,
    input: &mut dyn Input,
    hook: &mut dyn FnMut(&mut App),
) -> anyhow::Result<()> {
    let mut pacer = Pacer::new(SystemClock::default());
    loop {
        input.pump(app);
        hook(app);
        input.prepare(app);
        if let Some(sig) = signalled() {
            SEEN.store(true, Ordering::SeqCst);
            return Err(Interrupted(sig).into());
        }
        term.draw(|f| view::render(f, app))?;
        if app.quit {
            return Ok(());
        }
        if event::poll(input.wait(app))? {
            let action = match event::read()? {
                Event::Key(k) if k.kind != KeyEventKind::Release => {
                    action::map_key(&app.key_context(), k)
                }
                Event::Mouse(m) => action::map_mouse(m),
                Event::Resize(w, h) => Some(Action::Resize(w, h)),
                _ => None,
            };
            if let Some(a) = action {
                app.update(a);
            }
        }
        pacer.advance(app);
    }
}

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

/// Feeds the `App` the time passed on a [`Clock`] as `Action::Tick` while it plays.
pub struct Pacer<C: Clock> {
    pub clock: C,
    last: std::time::Duration,
}

impl<C: Clock> Pacer<C> {
    pub fn new(clock: C) -> Pacer<C> {
        let last = clock.now();
        Pacer { clock, last }
    }

    /// Tell `app` how much time passed since the last call (only while it plays).
    pub fn advance(&mut self, app: &mut App) {
        let now = self.clock.now();
        let dt = now.saturating_sub(self.last);
        self.last = now;
        if app.play.playing {
            let ns = i64::try_from(dt.as_nanos()).unwrap_or(i64::MAX);
            app.update(Action::Tick(ns));
        }
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
    catch_signals();
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
