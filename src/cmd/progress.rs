//! A progress bar on standard error while a capture file is read (`report`, `explain`,
//! `diagram`, `export-http`): bytes and packets read, rate and, when the size is known
//! (a file, not standard input), a bar and the time left. It appears only once reading
//! has taken half a second, only when standard error is a terminal, never with
//! `--quiet`, and is wiped before anything else is written to standard error.
//!
//! It reads the `ReadProgress` the readers tally; it never touches standard output.

use crate::capture::Source;
use crate::parallel::ReadProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long reading goes on before the bar shows; `TCPSCOPE_PROGRESS_DELAY_MS` in the
/// environment sets another (the tests use 0, so that a bar shows however fast the
/// machine reads).
const DELAY: Duration = Duration::from_millis(500);
const TICK: Duration = Duration::from_millis(100);

/// The bar's thread while a read goes on; `finish` (or drop) wipes the bar.
pub struct Bar {
    bar: ProgressBar,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Bar {
    /// Watch `progress` while `source` is read; nothing at all unless `shown`.
    pub fn start(progress: Arc<ReadProgress>, source: &Source, shown: bool) -> Bar {
        let total = match source {
            Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Source::Merged(all) => all.iter().try_fold(0, |n, s| match s {
                Source::File(p) => std::fs::metadata(p).ok().map(|m| n + m.len()),
                _ => None,
            }),
            Source::Stdin => None,
        };
        let bar = match total {
            Some(_) => ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden())
                .with_style(style(
                    "{bar:30} {bytes}/{total_bytes} · {msg} · {bytes_per_sec} · ETA {eta}",
                )),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
                .with_style(style("{spinner} {bytes} · {msg} · {bytes_per_sec}")),
        };
        let done = Arc::new(AtomicBool::new(false));
        let thread = shown.then(|| {
            let (done, bar) = (Arc::clone(&done), bar.clone());
            std::thread::spawn(move || run(&progress, total, &bar, &done))
        });
        Bar { bar, done, thread }
    }

    /// `out`, writing with the bar lifted off the terminal (for standard output on the
    /// same terminal: a line written never lands inside the bar).
    pub fn writer<W: Write>(&self, out: W) -> Lifting<W> {
        Lifting {
            out,
            bar: self.bar.clone(),
        }
    }

    /// Stop and wipe the bar (before warnings or errors are written to standard error).
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A writer that lifts the progress bar while it writes.
pub struct Lifting<W> {
    out: W,
    bar: ProgressBar,
}

impl<W: Write> Write for Lifting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let out = &mut self.out;
        self.bar.suspend(|| out.write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let out = &mut self.out;
        self.bar.suspend(|| out.flush())
    }
}

/// Whether a bar may show: standard error is a terminal and `--quiet` was not given.
pub fn wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

fn delay() -> Duration {
    std::env::var("TCPSCOPE_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(DELAY, Duration::from_millis)
}

fn run(progress: &ReadProgress, total: Option<u64>, bar: &ProgressBar, done: &AtomicBool) {
    let t0 = Instant::now();
    let delay = delay();
    while t0.elapsed() < delay {
        if done.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(TICK);
    }
    bar.set_draw_target(ProgressDrawTarget::stderr());
    loop {
        let bytes = progress.bytes.load(Ordering::Relaxed);
        // The tally counts record headers approximately: never run past the file's size.
        bar.set_position(total.map_or(bytes, |n| bytes.min(n)));
        bar.set_message(format!(
            "{} packets",
            crate::ts::thousands(progress.packets.load(Ordering::Relaxed))
        ));
        if done.load(Ordering::SeqCst) {
            break;
        }
        std::thread::sleep(TICK);
    }
    bar.finish_and_clear();
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}
