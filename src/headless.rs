//! A headless run of the whole pipeline over one source: what `report` prints and what
//! the golden tests assert on.

use crate::capture::{self, CaptureError, Source};
use crate::parallel::{ReadProgress, Tally};
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
    // Counted locally, published every 256 packets and at the end (as the parallel reader).
    let mut tally = Tally::default();
    let summary = capture::read_source(source, |p| {
        if progress.tally_batched(&mut tally, p) {
            return ControlFlow::Break(());
        }
        an.on_packet(p);
        ControlFlow::Continue(())
    });
    progress.publish(&mut tally);
    let summary = summary?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Read with `workers` threads: the progress published and the capture's facts.
    fn read(name: &str, workers: usize) -> (u64, u64, CaptureStats) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join(name);
        let cfg = Config {
            workers,
            ..Config::default()
        };
        let progress = ReadProgress::default();
        let stats = stream_with_progress(&Source::File(path), cfg, &progress, &mut |_| {}).unwrap();
        use std::sync::atomic::Ordering::Relaxed;
        (
            progress.packets.load(Relaxed),
            progress.bytes.load(Relaxed),
            stats,
        )
    }

    /// Batched progress (published every 256 packets) ends exact, single-threaded as on
    /// several workers, below and above one batch.
    #[test]
    fn final_progress_is_exact_on_one_worker() {
        for name in ["http-get.pcap", "http-lossy-download.pcap"] {
            let (p1, b1, s1) = read(name, 1);
            let (p2, b2, _) = read(name, 2);
            assert_eq!(p1, s1.packets, "{name}");
            assert_eq!((p1, b1), (p2, b2), "{name}");
        }
        assert!(
            read("http-lossy-download.pcap", 1).0 > 256,
            "one batch at least"
        );
    }
}
