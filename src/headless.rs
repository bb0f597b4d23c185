//! A headless run of the whole pipeline over one source: what `report` prints and what
//! the golden tests assert on.

use crate::capture::{self, CaptureError, Source};
use crate::parallel::ReadProgress;
use crate::pipeline::{Analyzer, CaptureStats, Config, Connection};
use std::ops::ControlFlow;

/// Read `source` to the end and analyse it.
pub fn run(source: &Source, cfg: Config) -> Result<(CaptureStats, Vec<Connection>), CaptureError> {
    let mut conns = Vec::new();
    let stats = stream(source, cfg, &mut |c| conns.push(c))?;
    Ok((stats, conns))
}

/// Read `source` to the end, handing each connection to `each` as soon as it (and every
/// lower id) has finished; returns the capture facts. Memory stays bounded by the
/// connections open at once.
pub fn stream(
    source: &Source,
    cfg: Config,
    each: &mut dyn FnMut(Connection),
) -> Result<CaptureStats, CaptureError> {
    stream_with_progress(source, cfg, &ReadProgress::default(), each)
}

/// `stream`, publishing how far reading got in `progress`; setting `progress.stop` ends
/// reading early (e.g. the output pipe closed), with what was read so far analysed.
/// `report` and the UI loader both read through here: `cfg.workers` threads (0: one per
/// core, up to 4), single-threaded when that is one.
pub fn stream_with_progress(
    source: &Source,
    cfg: Config,
    progress: &ReadProgress,
    each: &mut dyn FnMut(Connection),
) -> Result<CaptureStats, CaptureError> {
    let workers = match cfg.workers {
        0 => crate::parallel::default_workers(),
        n => n,
    };
    if workers > 1 {
        return crate::parallel::stream_with_progress(source, cfg, workers, progress, each);
    }
    let mut an = Analyzer::new(&source.display(), cfg);
    an.stream_to(each);
    let summary = capture::read_source(source, |p| {
        if progress.tally(p) {
            return ControlFlow::Break(());
        }
        an.on_packet(p);
        ControlFlow::Continue(())
    })?;
    for w in summary.warnings {
        an.warn(w);
    }
    let mut stats = an.finish().0;
    stats.packets_filtered_out = summary.filtered_out;
    Ok(stats)
}

/// Analyse a file with the default configuration.
pub fn run_path(
    path: impl AsRef<std::path::Path>,
) -> Result<(CaptureStats, Vec<Connection>), CaptureError> {
    run(
        &Source::File(path.as_ref().to_path_buf()),
        Config::default(),
    )
}
