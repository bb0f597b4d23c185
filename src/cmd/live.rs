//! `tcpscope live`: the terminal UI on a live capture, or with `--format` the headless
//! report (capture thread -> analyzer -> report writer) until Ctrl-C, `--count` or
//! `--duration`.
//!
//! Three modules carry "live" in their path, one job each: `capture::live` is the libpcap
//! edge (opening the interface, the capture thread, drops, the `-w` file), `ui::live` the
//! terminal UI's view of a running capture, and this one the command and its headless
//! report. Time for expiry on a quiet link comes from the wall clock here, at the edge, and
//! is handed to the analyzer through `Analyzer::tick`.

use super::stream_connections;
use crate::capture::live::{Batch, Event, Live, LiveStats, StopReason};
use crate::cli::config;
use crate::pipeline::{self, Analyzer};
use crate::report::Format;
use crate::ts::Ts;
use std::io::{self, BufWriter, LineWriter, Write};
use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// `tcpscope live`.
pub fn run(c: config::Live) -> anyhow::Result<()> {
    match c.format {
        Some(f) => {
            let filter = c.capture.filter.clone();
            let saving = c.capture.write.clone();
            let live = Live::start(c.capture)?;
            report_on(live, filter, saving, c.analysis, f, &mut io::stdout())
        }
        None => crate::ui::live::run(c.capture, c.analysis, c.present),
    }
}

/// Stop on Ctrl-C / SIGTERM / SIGHUP: the capture ends, every connection and the summary
/// line are written. A second signal while that is under way exits at once (status
/// 128 + signal), and says on stderr that the summary was not written.
fn install_signals(live: &Live) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use std::sync::atomic::Ordering;
    let flag = live.stop_flag();
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("tcpscope-signals".into())
        .spawn(move || {
            let mut seen = 0;
            for sig in signals.forever() {
                seen += 1;
                flag.store(true, Ordering::SeqCst);
                if seen > 1 {
                    eprintln!(
                        "tcpscope: stopped at once by a second signal: connections not yet written and the summary line were not written"
                    );
                    std::process::exit(128 + sig);
                }
            }
        });
}

/// The headless report of a capture already started, written to `out` until the capture
/// stops (`tcpscope demo` starts its own and stops it through `Live::stop_flag` when its
/// scenario is over). `filter` and `saving` are only told to the user.
pub fn report_on(
    live: Live,
    filter: Option<String>,
    saving: Option<PathBuf>,
    cfg: pipeline::Config,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    install_signals(&live);
    eprintln!(
        "tcpscope: capturing on {}{}; Ctrl-C stops",
        live.describe(),
        filter.map_or(String::new(), |f| format!(" with filter `{f}`"))
    );
    let out: Box<dyn Write + '_> = if format == Format::Ndjson {
        // Each connection line reaches the reader as soon as the connection is done.
        Box::new(LineWriter::new(out))
    } else {
        Box::new(BufWriter::with_capacity(1 << 16, out))
    };
    let mut stats = LiveStats::default();
    let mut problem = None;
    // A closed output stops the capture through its own stop flag.
    let stop = live.stop_flag();
    stream_connections(out, format, &stop, |each| {
        let mut an = Analyzer::new(&format!("live:{}", live.interface), cfg.for_live());
        an.stream_to(each);
        let reason = analyse(&live, &mut an, &mut stats);
        an.stats.kernel_drops = Some(stats.kernel_drops);
        an.stats.interface_drops = Some(stats.interface_drops);
        problem = reason.problem(&live.interface);
        if let Some(p) = &problem {
            an.warn(p.clone());
        }
        let behind = an.stats.packets_not_analysed;
        if behind > 0 {
            an.warn(format!(
                "{behind} packets captured but not analysed: --duration ended while they were queued (the analysis could not keep up)"
            ));
        }
        Ok(an.finish().0)
    })?;
    if let Some(p) = &problem {
        eprintln!("tcpscope: {p}");
    }
    eprintln!(
        "tcpscope: {} packets captured on {}, {} dropped by the kernel, {} by the interface{}",
        stats.captured,
        live.interface,
        stats.kernel_drops,
        stats.interface_drops,
        saving.map_or(String::new(), |p| format!(
            "; {} saved to {}",
            stats.saved,
            p.display()
        ))
    );
    Ok(())
}

/// Analyse a batch (`skip`: none of it), checking the deadline as it goes; what is left
/// when it passes is counted as not analysed. Whether the deadline has passed.
fn analyse_batch(b: &Batch, an: &mut Analyzer<'_>, deadline: Option<Instant>, skip: bool) -> bool {
    let mut over = skip;
    for (i, p) in b.packets().enumerate() {
        if !over && i % 256 == 255 && deadline.is_some_and(|d| Instant::now() >= d) {
            over = true;
        }
        if over {
            an.stats.packets_not_analysed += 1;
        } else {
            an.on_packet(&p);
        }
    }
    over
}

/// Feed the capture's batches to `an` until the capture stops; on a quiet link ticks the
/// analyzer with the wall clock once a second so that connections expire there too. At the end of
/// `--duration` the capture is stopped and what is still queued is counted, not analysed
/// (`packets_not_analysed`), so the run ends on time under any load.
fn analyse(live: &Live, an: &mut Analyzer<'_>, stats: &mut LiveStats) -> StopReason {
    let mut last_tick = Instant::now();
    let mut over = false;
    let mut quiet = false;
    loop {
        if !over && live.deadline.is_some_and(|d| Instant::now() >= d) {
            over = true;
        }
        if over {
            live.stop();
        }
        match live.rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Event::Packets(b)) => over |= analyse_batch(&b, an, live.deadline, over),
            Ok(Event::Stats(s)) => *stats = s,
            Ok(Event::Stopped(r, s)) => {
                *stats = s;
                if over && r == StopReason::Requested {
                    return StopReason::Duration;
                }
                return r;
            }
            Err(RecvTimeoutError::Timeout) => quiet = true,
            Err(RecvTimeoutError::Disconnected) => return StopReason::Disconnected,
        }
        // The wall clock stands in for packet time only once the queue is empty: while
        // the analysis is behind, the packets' own times drive expiry (a tick ahead of
        // them would expire connections whose next packets are still queued).
        if std::mem::take(&mut quiet) && last_tick.elapsed() >= Duration::from_secs(1) {
            last_tick = Instant::now();
            an.tick(Ts::now());
        }
    }
}
