//! The terminal UI on a live capture: `tcpscope live` without `--format`.
//!
//! Three threads: libpcap's (`capture::live`), an analysis thread that runs the analyzer
//! on each batch and, four times a second, sends read-only snapshots of the connections
//! that changed (and every finished connection), and this one, which merges them into the
//! `Loaded` the ordinary views draw: the live capture is an input source ([`LiveInput`])
//! of the one event loop (`ui::run`). Freezing the display (`f`, `Action::ToggleFreeze`)
//! only stops that merge: capture and analysis go on, and the status bar counts the
//! packets waiting.
//!
//! The views and key handling are the file UI's; the live status (interface, drops,
//! frozen, stopped) is shown in the title and status bar through `App::source`.

use crate::capture::Source;
use crate::capture::live::{Event, Live, LiveConfig, LiveStats, StopReason};
use crate::flow::ConnId;
use crate::pipeline::{Analyzer, CaptureStats, Config, Connection};
use crate::ui::action::Action;
use crate::ui::app::{App, Screen};
use crate::ui::model::Loaded;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

/// Most connections shown at once; beyond it the oldest leave the table (counted).
pub const MAX_SHOWN: usize = 20_000;
/// Most packet records and HTTP exchanges kept by the table's connections together
/// (measured: about 1.4 KB each with their share of the connection under a wrk load, so
/// about 1.4 GB); beyond it the oldest connections leave the table (counted). Without it,
/// 20 000 keep-alive connections of 2 000 packets each would hold 40 million records.
pub const MAX_SHOWN_RECORDS: usize = 1_000_000;

/// Make the table (sorted oldest first) fit `max_conns` connections and `max_records`
/// records ([`weight`]): the oldest leave first, never the connection open on screen
/// (`open`). Returns how many left.
fn evict_oldest(
    conns: &mut Vec<Connection>,
    open: Option<ConnId>,
    max_conns: usize,
    max_records: usize,
) -> usize {
    let mut total: usize = conns.iter().map(weight).sum();
    let mut shown = conns.len();
    let mut keep = vec![true; conns.len()];
    for (i, c) in conns.iter().enumerate() {
        if shown <= max_conns && total <= max_records {
            break;
        }
        if Some(c.id) == open {
            continue;
        }
        keep[i] = false;
        shown -= 1;
        total -= weight(c);
    }
    let before = conns.len();
    let mut it = keep.iter();
    conns.retain(|_| it.next().copied().unwrap_or(true));
    before - conns.len()
}

/// What a connection holds in the table, in records: packets kept and HTTP exchanges.
fn weight(c: &Connection) -> usize {
    let packets = c
        .summary
        .as_ref()
        .and_then(|s| s.packets.as_ref())
        .map_or(0, Vec::len);
    packets + c.http.len() + 1
}
const SNAPSHOT_EVERY: Duration = Duration::from_millis(250);

/// What the analysis thread sends to the UI.
pub enum LiveMsg {
    /// A connection that ended (closed and quiet, idle, or at the end of the capture).
    Finished(Box<Connection>),
    /// Snapshots of the live connections that changed, and the counters.
    Snapshot {
        conns: Vec<Connection>,
        stats: Box<CaptureStats>,
        live: LiveStats,
    },
    /// The capture ended (not asked for by the UI): why, and the last counters.
    Stopped {
        reason: StopReason,
        stats: Box<CaptureStats>,
        live: LiveStats,
    },
}

/// Run the analyzer over the capture's batches, sending snapshots to `tx`.
fn analysis_thread(live: Live, cfg: Config, quit: Arc<AtomicBool>, tx: Sender<LiveMsg>) {
    let ftx = tx.clone();
    let mut an = Analyzer::new(&format!("live:{}", live.interface), cfg.for_live());
    an.stream_to(move |c| {
        let _ = ftx.send(LiveMsg::Finished(Box::new(c)));
    });
    let mut last_snap = Instant::now();
    let mut snapped_to = 0u64;
    let mut counters = LiveStats::default();
    let reason = loop {
        match live.rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Event::Packets(b)) => b.packets().for_each(|p| an.on_packet(&p)),
            Ok(Event::Stats(s)) => counters = s,
            Ok(Event::Stopped(r, s)) => {
                counters = s;
                break r;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break StopReason::Disconnected,
        }
        if last_snap.elapsed() >= SNAPSHOT_EVERY {
            last_snap = Instant::now();
            an.tick(crate::ts::Ts::now());
            let conns = an.snapshot_live(snapped_to);
            snapped_to = an.stats.packets;
            an.stats.kernel_drops = Some(counters.kernel_drops);
            an.stats.interface_drops = Some(counters.interface_drops);
            let msg = LiveMsg::Snapshot {
                conns,
                stats: Box::new(an.stats.clone()),
                live: counters,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    };
    if quit.load(Ordering::SeqCst) {
        // The user quit: only the last counters matter.
        let _ = tx.send(LiveMsg::Stopped {
            reason,
            stats: Box::new(an.stats.clone()),
            live: counters,
        });
        return;
    }
    an.stats.kernel_drops = Some(counters.kernel_drops);
    an.stats.interface_drops = Some(counters.interface_drops);
    if let Some(p) = reason.problem(&live.interface) {
        an.warn(p);
    }
    let (stats, _) = an.finish();
    let _ = tx.send(LiveMsg::Stopped {
        reason,
        stats: Box::new(stats),
        live: counters,
    });
}

/// The UI's side: updates merged but not yet shown, and the live counters.
struct Feed {
    /// Connections changed since the last refresh, newest copy per id.
    pending: BTreeMap<ConnId, Connection>,
    stats: Option<CaptureStats>,
    counters: LiveStats,
    stopped: Option<StopReason>,
    /// Connections that left the table (more than `MAX_SHOWN`, or `MAX_SHOWN_RECORDS`).
    dropped: u64,
    iface: String,
}

impl Feed {
    fn take(&mut self, m: LiveMsg) {
        match m {
            LiveMsg::Finished(c) => {
                self.pending.insert(c.id, *c);
                self.cap_pending();
            }
            LiveMsg::Snapshot { conns, stats, live } => {
                for c in conns {
                    self.pending.insert(c.id, c);
                }
                self.cap_pending();
                self.stats = Some(*stats);
                self.counters = live;
            }
            LiveMsg::Stopped {
                reason,
                stats,
                live,
            } => {
                self.stats = Some(*stats);
                self.counters = live;
                self.stopped = Some(reason);
            }
        }
    }

    /// While frozen (or slow), updates wait here: no more than the table could show; the
    /// oldest go first, counted with the connections that left the table.
    fn cap_pending(&mut self) {
        while self.pending.len() > MAX_SHOWN && self.pending.pop_first().is_some() {
            self.dropped += 1;
        }
    }

    /// Packets analysed but not yet on screen.
    fn waiting(&self, app: &App) -> u64 {
        let shown = app.data.as_ref().map_or(0, |d| d.stats.packets);
        self.stats
            .as_ref()
            .map_or(0, |s| s.packets.saturating_sub(shown))
    }

    /// The live part of the title and status bar (short: the title also holds the
    /// connection counts).
    fn status(&self, app: &App) -> String {
        let c = &self.counters;
        let state = match (&self.stopped, app.frozen == Some(true)) {
            (Some(StopReason::InterfaceDown(m) | StopReason::Error(m)), _) => {
                format!("■ stopped: {m}")
            }
            (Some(_), _) => "■ stopped".to_string(),
            (None, true) => format!("❚❚ frozen, {} waiting (f)", self.waiting(app)),
            (None, false) => "● capturing, f freezes".to_string(),
        };
        let delivery = match c.buffered_from {
            Some(f) => format!(" │ batched since frame {f} (load too high for immediate mode)"),
            None => String::new(),
        };
        format!(
            "live {} │ {state} │ drops: kernel {}, if {}{delivery}",
            self.iface, c.kernel_drops, c.interface_drops
        )
    }

    /// Merge what is pending into the shown data.
    fn refresh(&mut self, app: &mut App) {
        let Some(stats) = self.stats.clone() else {
            return;
        };
        if self.pending.is_empty()
            && app
                .data
                .as_ref()
                .is_some_and(|d| d.stats.packets == stats.packets)
        {
            return;
        }
        let old = app.data.take();
        let (old_conns, old_idx) = match old {
            Some(d) => {
                let sel = app
                    .selected_conn()
                    .and_then(|i| d.rows.get(i))
                    .map(|r| r.id);
                let open = app.conn_view.conn.and_then(|i| d.rows.get(i)).map(|r| r.id);
                (d.into_records(), (sel, open))
            }
            None => (Vec::new(), (None, None)),
        };
        let mut merged: Vec<Connection> = Vec::with_capacity(old_conns.len() + self.pending.len());
        let mut pend = std::mem::take(&mut self.pending).into_iter().peekable();
        for c in old_conns {
            while let Some((id, _)) = pend.peek()
                && *id < c.id
            {
                if let Some((_, p)) = pend.next() {
                    merged.push(p);
                }
            }
            if pend.peek().is_some_and(|(id, _)| *id == c.id) {
                if let Some((_, p)) = pend.next() {
                    merged.push(p);
                }
            } else {
                merged.push(c);
            }
        }
        merged.extend(pend.map(|(_, p)| p));
        let (sel, open) = old_idx;
        self.dropped += evict_oldest(&mut merged, open, MAX_SHOWN, MAX_SHOWN_RECORDS) as u64;
        let mut stats = stats;
        if self.dropped > 0 {
            stats.warnings.push(format!(
                "{} oldest connections left the full table (see docs/live.md)",
                self.dropped
            ));
        }
        let pos =
            |id: Option<ConnId>| id.and_then(|id| merged.binary_search_by_key(&id, |c| c.id).ok());
        let (new_sel, new_open) = (pos(sel), pos(open));
        app.conn_view.conn = new_open;
        if new_open.is_none() && app.screen == Screen::Connection {
            app.screen = Screen::Connections;
        }
        // Keep the cursor on the same connection: refilter keeps it by index.
        app.data = Some(Loaded::new(stats, merged));
        app.refilter();
        if let Some(i) = new_sel
            && let Some(p) = app.table.visible.iter().position(|&v| v == i)
        {
            app.table.sel = p;
        }
        app.loading = None;
        app.update(Action::Resize(app.size.0, app.size.1));
    }
}

/// Load the bytes the current view wants: from the `-w` file, or say why there are none.
fn load_bytes(app: &mut App, saved: Option<&Source>) {
    match saved {
        Some(src) => crate::ui::load_wanted(app, src),
        None => {
            const WHY: &str = "a live capture keeps no packet bytes; run with -w FILE to see them";
            if app.wanted_frame().is_some() && app.frame_bytes.is_none() {
                app.frame_bytes = Some(Err(WHY.into()));
            }
            if app.wanted_stream().is_some() && app.stream.is_none() {
                app.stream = Some(Err(WHY.into()));
            }
        }
    }
}

/// A live capture as the UI's input source: the analysis thread's messages merged into
/// the table four times a second, unless the display is frozen (`App::frozen`).
struct LiveInput {
    rx: Receiver<LiveMsg>,
    feed: Feed,
    /// The analysis thread is still sending.
    open: bool,
    last_refresh: Instant,
    /// The `-w` file, where the views re-read bytes from.
    saved: Option<Source>,
}

impl crate::ui::run::Input for LiveInput {
    fn pump(&mut self, app: &mut App) {
        let feed = &mut self.feed;
        while self.open {
            match self.rx.try_recv() {
                Ok(m) => feed.take(m),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.open = false;
                    if feed.stopped.is_none() {
                        feed.stopped = Some(StopReason::Disconnected);
                    }
                }
            }
        }
        if app.frozen != Some(true)
            && (self.last_refresh.elapsed() >= SNAPSHOT_EVERY || feed.stopped.is_some())
        {
            self.last_refresh = Instant::now();
            feed.refresh(app);
        }
    }

    fn prepare(&mut self, app: &mut App) {
        app.source = self.feed.status(app);
        crate::ui::save::write_wanted(app, None, std::path::Path::new("."));
        load_bytes(app, self.saved.as_ref());
    }

    fn wait(&self, app: &App) -> Duration {
        Duration::from_millis(if app.play.playing { 30 } else { 100 })
    }
}

/// Open the TUI on a live capture; returns when the user quits (q, Esc, Ctrl-C).
pub fn run(cap: LiveConfig, cfg: Config, present: bool) -> anyhow::Result<()> {
    let saving = cap.write.clone();
    // Errors (permission, interface, filter) come back before the terminal is touched.
    let live = Live::start(cap)?;
    run_on(live, saving, cfg, present, &mut |_| {})
}

/// The TUI on a capture already started (`tcpscope demo` starts its own); `hook` sees
/// the app before each frame is drawn (the demo uses it to start stepping).
pub fn run_on(
    live: Live,
    saving: Option<std::path::PathBuf>,
    cfg: Config,
    present: bool,
    hook: &mut dyn FnMut(&mut App),
) -> anyhow::Result<()> {
    let iface = live.describe();
    let stop = live.stop_flag();
    let quit = Arc::new(AtomicBool::new(false));
    let (tx, rx): (Sender<LiveMsg>, Receiver<LiveMsg>) = mpsc::channel();
    let q = quit.clone();
    let worker = std::thread::Builder::new()
        .name("tcpscope-analysis".into())
        .spawn(move || analysis_thread(live, cfg, q, tx))?;
    let name = iface.clone();
    let ifname = name.split(' ').next().unwrap_or_default().to_string();

    let (guard, mut term) = crate::ui::run::enter_terminal("tcpscope live --format text")?;

    let feed = Feed {
        pending: BTreeMap::new(),
        stats: Some({
            let mut s = CaptureStats::default();
            s.file = format!("live:{ifname}");
            s
        }),
        counters: LiveStats::default(),
        stopped: None,
        dropped: 0,
        iface: name,
    };
    let saved = saving.clone().map(Source::File);
    let mut app = App::new("live");
    app.color = App::color_from_env();
    app.present = present;
    let sz = term.size()?;
    app.update(Action::Resize(sz.width, sz.height));
    app.set_loaded(Loaded::new(
        feed.stats.clone().unwrap_or_default(),
        Vec::new(),
    ));
    app.frozen = Some(false);
    let mut input = LiveInput {
        rx,
        feed,
        open: true,
        last_refresh: Instant::now(),
        saved,
    };
    let result = crate::ui::run::event_loop(&mut term, &mut app, &mut input, hook);
    let LiveInput { rx, mut feed, .. } = input;
    quit.store(true, Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    drop(term);
    drop(guard);
    // The analysis thread drops the capture, which closes the -w file whole.
    let _ = worker.join();
    while let Ok(m) = rx.try_recv() {
        feed.take(m);
    }
    let c = feed.counters;
    eprintln!(
        "tcpscope: {} packets captured on {}, {} dropped by the kernel, {} by the interface{}",
        c.captured,
        feed.iface,
        c.kernel_drops,
        c.interface_drops,
        saving.map_or(String::new(), |p| format!("; saved to {}", p.display()))
    );
    if let Some(f) = c.buffered_from {
        eprintln!(
            "tcpscope: from frame {f} on, packets came in blocks (at most 50 ms late) instead of one by one: the load was more than immediate mode can follow"
        );
    }
    if let Some(p) = feed.stopped.as_ref().and_then(|r| r.problem(&ifname)) {
        eprintln!("tcpscope: {p}");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Source;

    /// Ten copies of the keep-alive capture's connection (21 packets, 3 exchanges), ids 1..=10.
    fn table() -> Vec<Connection> {
        let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("captures/http-keepalive.pcap");
        (1..=10)
            .map(|i| {
                let loaded =
                    crate::ui::loader::load(&Source::File(p.clone()), |_| {}).expect("load");
                let mut c = loaded
                    .into_records()
                    .into_iter()
                    .next()
                    .expect("a connection");
                assert_eq!(weight(&c), 21 + 3 + 1);
                c.id = i;
                c
            })
            .collect()
    }

    fn ids(v: &[Connection]) -> Vec<u64> {
        v.iter().map(|c| c.id).collect()
    }

    #[test]
    fn oldest_leave_when_records_are_over_budget() {
        let mut t = table();
        // 10 x 25 = 250 records; room for 100: the six oldest leave.
        assert_eq!(evict_oldest(&mut t, None, 20_000, 100), 6);
        assert_eq!(ids(&t), [7, 8, 9, 10]);
    }

    #[test]
    fn the_open_connection_stays() {
        let mut t = table();
        assert_eq!(evict_oldest(&mut t, Some(2), 20_000, 100), 6);
        assert_eq!(ids(&t), [2, 8, 9, 10]);
    }

    #[test]
    fn connection_count_cap_still_applies_and_nothing_leaves_under_both() {
        let mut t = table();
        assert_eq!(evict_oldest(&mut t, None, 3, 1_000), 7);
        assert_eq!(ids(&t), [8, 9, 10]);
        let mut t = table();
        assert_eq!(evict_oldest(&mut t, None, 10, 250), 0);
        assert_eq!(t.len(), 10);
    }
}
