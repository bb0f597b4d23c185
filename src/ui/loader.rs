//! Background loading: the capture is read and analysed on its own thread, which reports
//! progress (bytes, packets, rate) over a channel and finally the whole analysis. The
//! UI thread never blocks on the file.
//!
//! Connections appear when the analysis finishes (`Analyzer::finish` is what produces
//! them); until then the UI shows the progress bar and stays responsive.

use crate::analyze::{Analyzer, Config};
use crate::capture::{self, Source};
use crate::ui::model::Loaded;
use std::ops::ControlFlow;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// How far loading has got.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    /// Approximate bytes of the file consumed (record headers + captured bytes).
    pub bytes: u64,
    /// File size (None for standard input).
    pub total: Option<u64>,
    pub packets: u64,
    pub elapsed: Duration,
}

impl Progress {
    pub fn ratio(&self) -> Option<f64> {
        self.total
            .filter(|t| *t > 0)
            .map(|t| (self.bytes as f64 / t as f64).clamp(0.0, 1.0))
    }

    pub fn rate_pps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.packets as f64 / s
        } else {
            0.0
        }
    }
}

pub enum LoadMsg {
    Progress(Progress),
    Done(Result<Box<Loaded>, String>),
}

/// The analysis settings the UI needs: every packet record and the HTTP bodies.
pub fn ui_config() -> Config {
    let mut cfg = Config {
        keep_bodies: true,
        ..Config::default()
    };
    cfg.engine.keep_packets = true;
    cfg
}

/// Analyse `source` synchronously (tests, and the loader thread's body).
pub fn load(source: &Source, mut on_progress: impl FnMut(Progress)) -> Result<Loaded, String> {
    let total = match source {
        Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        Source::Stdin => None,
    };
    let start = Instant::now();
    let mut an = Analyzer::new(&source.display(), ui_config());
    let mut prog = Progress {
        bytes: 24,
        total,
        ..Default::default()
    };
    let mut last = Instant::now();
    let summary = capture::read_source(source, |p| {
        an.on_packet(p);
        prog.packets += 1;
        prog.bytes += 16 + p.data.len() as u64;
        if prog.packets.is_multiple_of(4096) && last.elapsed() >= Duration::from_millis(100) {
            last = Instant::now();
            prog.elapsed = start.elapsed();
            on_progress(prog);
        }
        ControlFlow::Continue(())
    })
    .map_err(|e| e.to_string())?;
    for w in summary.warnings {
        an.warn(w);
    }
    prog.elapsed = start.elapsed();
    if let Some(t) = total {
        prog.bytes = t;
    }
    on_progress(prog);
    let (stats, conns) = an.finish();
    Ok(Loaded::new(stats, conns))
}

/// Start loading on a thread.
pub fn spawn(source: Source) -> Receiver<LoadMsg> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("tcpscope-loader".into())
        .spawn(move || {
            let ptx = tx.clone();
            let r = load(&source, |p| {
                let _ = ptx.send(LoadMsg::Progress(p));
            });
            let _ = tx.send(LoadMsg::Done(r.map(Box::new)));
        })
        .ok();
    rx
}
