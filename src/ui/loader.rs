//! Background loading: the capture is read and analysed on its own thread, which reports
//! progress (bytes, packets, rate) over a channel and finally the whole analysis. The
//! UI thread never blocks on the file.
//!
//! Connections appear as soon as they finish (in id order, a batch every 200 ms), so the
//! table fills in while the rest of the file is read; the analysis runs as `report`'s
//! does (`headless::stream_with_progress`: on all cores, or single-threaded on one).

use crate::capture::Source;
use crate::parallel::ReadProgress;
use crate::pipeline::{CaptureStats, Config};
use crate::ui::app::App;
use crate::ui::compact::{Arrived, Budget};
use crate::ui::model::Loaded;
pub use crate::ui::model::Progress;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

pub enum LoadMsg {
    /// Connections that finished (in id order), whole or compact (`ui::compact`): shown
    /// while the rest loads.
    Conns(Vec<Arrived>),
    /// Loading ended: the capture facts, or why it failed.
    Done(Result<Box<CaptureStats>, String>),
}

pub use crate::ui::compact::ui_config;

/// Live sessions cannot re-read their packets from a file (unless saved with `-w`), so
/// the HTTP bodies are kept with the analysis (each capped, connections expire).
pub fn live_ui_config() -> Config {
    let mut cfg = ui_config();
    cfg.keep_bodies = true;
    cfg
}

/// Analyse `source` synchronously (tests, and the loader thread's body). Connections
/// go to `on_conns` in batches as they finish (in id order), progress to `on_progress`.
pub fn load_streaming(
    source: &Source,
    counters: &ReadProgress,
    mut on_conns: impl FnMut(Vec<Arrived>),
) -> Result<CaptureStats, String> {
    load_streaming_within(source, counters, Budget::default(), &mut on_conns)
}

/// [`load_streaming`] with a budget of whole records: beyond it connections go compact
/// (made on this thread, so that a batch of whole records never piles up in memory).
pub fn load_streaming_within(
    source: &Source,
    counters: &ReadProgress,
    mut budget: Budget,
    on_conns: &mut dyn FnMut(Vec<Arrived>),
) -> Result<CaptureStats, String> {
    let mut batch: Vec<Arrived> = Vec::new();
    let mut last = Instant::now();
    let stats = crate::headless::stream_with_progress(source, ui_config(), counters, &mut |c| {
        batch.push(budget.arrive(c));
        if last.elapsed() >= Duration::from_millis(200) {
            last = Instant::now();
            on_conns(std::mem::take(&mut batch));
        }
    })
    .map_err(|e| e.to_string())?;
    if !batch.is_empty() {
        on_conns(batch);
    }
    Ok(stats)
}

/// Analyse `source` to the end and return everything (tests).
pub fn load(source: &Source, mut on_progress: impl FnMut(Progress)) -> Result<Loaded, String> {
    let counters = ReadProgress::default();
    let start = Instant::now();
    let mut conns = Vec::new();
    let stats = load_streaming(source, &counters, |v| conns.extend(v))?;
    on_progress(progress_of(source_size(source), &counters, start));
    let mut d = Loaded::new(stats, Vec::new());
    d.append_arrived(conns);
    Ok(d)
}

/// Size of the file being read (None for standard input).
pub fn source_size(source: &Source) -> Option<u64> {
    match source {
        // A spool of standard input grows while it is read: no total to show.
        Source::File(p) if crate::capture::spool::spool_state(p).is_some() => None,
        Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        Source::Stdin | Source::Merged(_) => None,
    }
}

/// A progress snapshot from the reader's counters.
pub fn progress_of(total: Option<u64>, c: &ReadProgress, start: Instant) -> Progress {
    use std::sync::atomic::Ordering::Relaxed;
    Progress {
        bytes: 24 + c.bytes.load(Relaxed),
        total,
        packets: c.packets.load(Relaxed),
        elapsed: start.elapsed(),
    }
}

/// Start loading on a thread: batches of finished connections and the end come over the
/// channel; the progress counters can be read at any time.
pub fn spawn(source: Source) -> (Receiver<LoadMsg>, Arc<ReadProgress>) {
    let (tx, rx) = mpsc::channel();
    let counters = Arc::new(ReadProgress::default());
    let c2 = Arc::clone(&counters);
    std::thread::Builder::new()
        .name("tcpscope-loader".into())
        .spawn(move || {
            let ctx = tx.clone();
            let r = load_streaming(&source, &c2, |v| {
                let _ = ctx.send(LoadMsg::Conns(v));
            });
            let _ = tx.send(LoadMsg::Done(r.map(Box::new)));
        })
        .ok();
    (rx, counters)
}

/// A capture file (or the spool of standard input) as the UI's input source: loaded on
/// the loader thread, connections shown as they finish, bytes re-read from the file.
pub(crate) struct FileInput {
    source: Source,
    rx: Receiver<LoadMsg>,
    counters: Arc<ReadProgress>,
    total: Option<u64>,
    start: Instant,
    /// The loader is still sending.
    open: bool,
}

impl FileInput {
    /// Start loading `source`.
    pub(crate) fn spawn(source: Source) -> FileInput {
        let (rx, counters) = spawn(source.clone());
        FileInput {
            total: source_size(&source),
            source,
            rx,
            counters,
            start: Instant::now(),
            open: true,
        }
    }
}

/// Add the connections gathered so far to the table, if any.
fn flush(app: &mut App, arrived: &mut Vec<Arrived>) {
    if !arrived.is_empty() {
        app.add_arrived(std::mem::take(arrived));
    }
}

impl crate::ui::run::Input for FileInput {
    fn pump(&mut self, app: &mut App) {
        use std::sync::mpsc::TryRecvError;
        if self.open {
            app.loading = Some(progress_of(self.total, &self.counters, self.start));
        }
        // Every batch waiting is added at once: one refilter of the table, not one a batch
        // (a backlog of batches would grow while the table is refiltered for each).
        let mut arrived: Vec<Arrived> = Vec::new();
        while self.open {
            match self.rx.try_recv() {
                Ok(LoadMsg::Conns(v)) if arrived.is_empty() => arrived = v,
                Ok(LoadMsg::Conns(v)) => arrived.extend(v),
                Ok(LoadMsg::Done(Ok(stats))) => {
                    flush(app, &mut arrived);
                    app.finish_loading(*stats);
                    self.open = false;
                }
                Ok(LoadMsg::Done(Err(e))) => {
                    app.error = Some(e);
                    app.loading = None;
                    self.open = false;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    flush(app, &mut arrived);
                    if app.data.is_none() && app.error.is_none() {
                        app.error = Some("the loader stopped unexpectedly".into());
                    }
                    self.open = false;
                }
            }
        }
        flush(app, &mut arrived);
    }

    fn prepare(&mut self, app: &mut App) {
        crate::ui::load_wanted(app, &self.source);
    }

    fn wait(&self, app: &App) -> Duration {
        if app.play.playing || self.open {
            Duration::from_millis(30)
        } else {
            Duration::from_millis(250)
        }
    }
}
