//! `tcpscope live` and `tcpscope interfaces`: settings from the command line, the
//! headless run (capture thread -> analyzer -> report writer) and the interface list.
//!
//! The capture itself is `capture::live` (libpcap stays there); the terminal UI side is
//! `ui::live`. Time for expiry on a quiet link comes from the wall clock here, at the
//! edge, and is handed to the analyzer through `Analyzer::tick`.

use crate::analyze::{Analyzer, Config};
use crate::capture::live::{Event, Live, LiveConfig, LiveStats, StopReason};
use crate::cli::LiveArgs;
use crate::report::{Format, Writer};
use crate::ts::Ts;
use std::cell::RefCell;
use std::io::{self, BufWriter, LineWriter, Write};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The wall clock as a packet timestamp (live packets are stamped with the same clock).
pub fn now_ts() -> Ts {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Ts(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// What to capture, from the command line.
pub fn capture_config(a: &LiveArgs) -> anyhow::Result<LiveConfig> {
    let duration = match a.duration {
        Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => anyhow::bail!("--duration {s}: give a positive number of seconds"),
        None => None,
    };
    Ok(LiveConfig {
        interface: a.interface.clone(),
        filter: a.filter.clone().filter(|f| !f.trim().is_empty()),
        write: a.write.clone(),
        snaplen: a.snaplen,
        promisc: !a.no_promisc,
        buffer_bytes: i32::try_from(u64::from(a.buffer_mib) << 20).unwrap_or(i32::MAX),
        immediate_buffer_bytes: crate::capture::live::IMMEDIATE_BUFFER,
        count: a.count,
        duration,
        // The TUI shows each packet at once; a report can take them by the kernel block
        // (at most 50 ms later), which costs far fewer wake-ups under load.
        immediate: a.format.is_none() && !a.buffered,
    })
}

/// How to analyse, from the command line; `base` is the report's or the UI's settings.
pub fn analysis_config(a: &LiveArgs, mut base: Config) -> Config {
    base.max_connections = usize::try_from(a.max_connections).unwrap_or(usize::MAX);
    base.engine.max_packets_per_conn =
        usize::try_from(a.max_packets_per_conn).unwrap_or(usize::MAX);
    if a.no_http {
        base.http = None;
    }
    base
}

/// `tcpscope live`.
pub fn run(a: LiveArgs) -> anyhow::Result<()> {
    let cap = capture_config(&a)?;
    match a.format {
        Some(f) => headless(
            cap,
            analysis_config(&a, Config::default()),
            f,
            &mut io::stdout(),
        ),
        None => crate::ui::live::run(
            cap,
            analysis_config(&a, crate::ui::loader::live_ui_config()),
            a.present,
        ),
    }
}

/// Stop on Ctrl-C / SIGTERM / SIGHUP (a second Ctrl-C exits at once).
fn install_signals(live: &Live) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let flag = live.stop_flag();
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 1, flag.clone());
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
}

/// Capture and write a report to `out` until Ctrl-C, `--count` or `--duration`.
pub fn headless(
    cap: LiveConfig,
    cfg: Config,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let filter = cap.filter.clone();
    let saving = cap.write.clone();
    let live = Live::start(cap)?;
    headless_on(live, filter, saving, cfg, format, out)
}

/// The headless run on a capture already started (`tcpscope demo` starts its own and
/// stops it through `Live::stop_flag` when its scenario is over).
pub fn headless_on(
    live: Live,
    filter: Option<String>,
    saving: Option<std::path::PathBuf>,
    cfg: Config,
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
    let writer = RefCell::new(Writer::new(out, format));
    let write_err: RefCell<Option<io::Error>> = RefCell::new(None);
    let mut an = Analyzer::new(&format!("live:{}", live.interface), cfg);
    an.stream_to(|c| {
        if write_err.borrow().is_none()
            && let Err(e) = writer.borrow_mut().connection(&c)
        {
            *write_err.borrow_mut() = Some(e);
        }
    });
    let mut stats = LiveStats::default();
    let mut last_tick = Instant::now();
    let reason = loop {
        if write_err.borrow().is_some() {
            live.stop();
        }
        match live.rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Event::Packets(b)) => b.packets().for_each(|p| an.on_packet(&p)),
            Ok(Event::Stats(s)) => stats = s,
            Ok(Event::Stopped(r, s)) => {
                stats = s;
                break r;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break StopReason::Disconnected,
        }
        if last_tick.elapsed() >= Duration::from_secs(1) {
            last_tick = Instant::now();
            an.tick(now_ts());
        }
    };
    an.stats.kernel_drops = Some(stats.kernel_drops);
    an.stats.interface_drops = Some(stats.interface_drops);
    let problem = reason.problem(&live.interface);
    if let Some(p) = &problem {
        an.warn(p.clone());
    }
    let (summary, _) = an.finish();
    if let Some(e) = write_err.into_inner() {
        return Err(e.into());
    }
    writer.into_inner().finish(&summary)?;
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

/// `tcpscope interfaces`.
pub fn print_interfaces() -> anyhow::Result<()> {
    let list = crate::capture::live::interfaces()?;
    let mut out = BufWriter::new(io::stdout().lock());
    let name_w = list
        .iter()
        .map(|i| i.name.len() + 2)
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:name_w$}  {:26}  {:28}  ADDRESSES",
        "NAME", "FLAGS", "LINK TYPES"
    )?;
    for i in &list {
        let name = if i.is_default {
            format!("{} *", i.name)
        } else {
            i.name.clone()
        };
        let lts = match &i.linktypes {
            Ok(v) => v.join(", "),
            Err(e) => e.clone(),
        };
        let addrs = if i.addresses.is_empty() {
            "-".to_string()
        } else {
            i.addresses.join(", ")
        };
        writeln!(
            out,
            "{name:name_w$}  {:26}  {lts:28}  {addrs}",
            i.flags.join(", ")
        )?;
        if let Some(d) = &i.description {
            writeln!(out, "{:name_w$}  {d}", "")?;
        }
    }
    writeln!(
        out,
        "\n* libpcap's default device: what `tcpscope live` captures on without -i"
    )?;
    out.flush()?;
    Ok(())
}
