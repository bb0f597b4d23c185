//! Live capture: opening an interface with libpcap and reading it on a thread of its own.
//! This is the libpcap edge of live capture; the terminal UI's view of it is `ui::live`,
//! the `tcpscope live` command and its headless report `cmd::live`.
//!
//! Owns the libpcap handle of a live capture, the optional `-w` savefile and the mapping
//! of libpcap's errors to messages that say what to do. Packets leave this module in
//! batches over a bounded channel, numbered from 1 in capture order (the order of the
//! `-w` file, so a saved capture read back has the same frame numbers). Nothing here
//! interprets packet bytes.
//!
//! The handle is non-blocking and the thread waits with `poll(2)` on libpcap's selectable
//! descriptor with a short timeout: with libpcap 1.10 a blocking read never returns on an
//! idle link, and a stop request must be seen promptly. Immediate mode hands each packet
//! over as it arrives rather than when a kernel block fills; under load the capture moves,
//! without losing or repeating a packet, to a block-delivery handle opened beside it at
//! the start (see `capture_loop` and docs/live.md). While the channel is full the thread
//! keeps reading and holds the packets itself (`Outbox`), so a slow consumer costs
//! memory (capped) before it costs packets.

use super::{RawPacket, dlt_to_linktype, libpcap_message};
use crate::ts::Ts;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What to capture and how.
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// Interface name; None: libpcap's default device.
    pub interface: Option<String>,
    /// BPF filter expression.
    pub filter: Option<String>,
    /// Save every captured packet to this pcap file.
    pub write: Option<PathBuf>,
    pub snaplen: i32,
    pub promisc: bool,
    /// Kernel buffer in bytes.
    pub buffer_bytes: i32,
    /// Kernel buffer of the immediate-mode handle, at least (see [`IMMEDIATE_BUFFER`]).
    pub immediate_buffer_bytes: i32,
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// Stop after this much time.
    pub duration: Option<Duration>,
    /// Hand each packet over as it arrives (the TUI). Off: the kernel fills blocks and
    /// hands them over when full or after `POLL_MS`, far fewer wake-ups under load.
    pub immediate: bool,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            interface: None,
            filter: None,
            write: None,
            snaplen: 262_144,
            promisc: true,
            buffer_bytes: 16 << 20,
            immediate_buffer_bytes: IMMEDIATE_BUFFER,
            count: None,
            duration: None,
            immediate: true,
        }
    }
}

/// Why a live capture could not start.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "cannot capture on {iface}: permission denied; run as root or grant the binary cap_net_raw,cap_net_admin with setcap (`sudo setcap cap_net_raw,cap_net_admin=eip {exe}`)"
    )]
    PermissionDenied { iface: String, exe: String },
    #[error(
        "cannot capture on {iface}: no such interface; the interfaces are: {}; `tcpscope interfaces` describes them",
        available.join(", ")
    )]
    NoSuchInterface {
        iface: String,
        available: Vec<String>,
    },
    #[error(
        "cannot capture on {iface}: the interface is down; bring it up (`ip link set {iface} up`) or pick another (`tcpscope interfaces`)"
    )]
    InterfaceDown { iface: String },
    #[error(
        "bad capture filter: {message}\n  {filter}\n  {marker}\nsee `man pcap-filter` for the syntax (e.g. `tcp port 80 and host 10.0.0.1`)"
    )]
    BadFilter {
        filter: String,
        message: String,
        marker: String,
    },
    #[error(
        "no interface to capture on: libpcap found none; `tcpscope interfaces` lists them, or pass -i IFACE"
    )]
    NoDefault,
    #[error("cannot capture on {iface}: {detail}")]
    Open { iface: String, detail: String },
    #[error("cannot write {file}: {detail}; check the directory exists and is writable")]
    Savefile { file: String, detail: String },
    #[error("cannot list interfaces: {detail}")]
    List { detail: String },
}

/// One packet of a batch: its bytes are `Batch::data[off..off + len]`.
#[derive(Clone, Copy, Debug)]
struct Rec {
    index: u64,
    ts: Ts,
    orig_len: u32,
    off: usize,
    len: usize,
}

/// Packets read in one go, in capture order, their bytes in one buffer.
#[derive(Debug, Default)]
pub struct Batch {
    linktype: u32,
    data: Vec<u8>,
    recs: Vec<Rec>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// The packets, borrowed from the batch.
    pub fn packets(&self) -> impl Iterator<Item = RawPacket<'_>> + '_ {
        self.recs.iter().map(|r| RawPacket {
            index: r.index,
            ts: r.ts,
            linktype: self.linktype,
            orig_len: r.orig_len,
            data: self.data.get(r.off..r.off + r.len).unwrap_or_default(),
        })
    }
}

/// Counters of a running capture (libpcap's stats plus our own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Packets handed to tcpscope.
    pub captured: u64,
    /// Packets the kernel dropped because the buffer was full (pcap `ps_drop`).
    pub kernel_drops: u64,
    /// Packets the interface or its driver dropped (pcap `ps_ifdrop`).
    pub interface_drops: u64,
    /// Packets written to the `-w` file.
    pub saved: u64,
    /// Immediate mode was given up for block delivery because the kernel dropped packets
    /// (the frame number of the switch).
    pub buffered_from: Option<u64>,
}

/// Why the capture thread stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// `stop()` was called (q, Ctrl-C, end of `--duration`).
    Requested,
    /// `--count` packets were captured.
    Count,
    Duration,
    /// The interface went down or disappeared; libpcap's words.
    InterfaceDown(String),
    /// Any other read error.
    Error(String),
    /// The receiving side went away.
    Disconnected,
}

impl StopReason {
    /// A sentence for the user when the stop was not asked for; None when it was.
    pub fn problem(&self, iface: &str) -> Option<String> {
        match self {
            StopReason::InterfaceDown(m) => Some(format!(
                "capture on {iface} stopped: {m}; everything captured until then is reported (and saved with -w)"
            )),
            StopReason::Error(m) => Some(format!(
                "capture on {iface} stopped: {m}; everything captured until then is reported (and saved with -w)"
            )),
            _ => None,
        }
    }
}

/// What the capture thread sends.
#[derive(Debug)]
pub enum Event {
    Packets(Batch),
    Stats(LiveStats),
    /// Last message: the final counters, the -w file closed.
    Stopped(StopReason, LiveStats),
}

/// A running live capture.
pub struct Live {
    /// The interface captured on.
    pub interface: String,
    /// True when no `-i` was given and libpcap chose the interface.
    pub default_device: bool,
    pub rx: Receiver<Event>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Batches waiting in the channel before the capture thread waits for the consumer (the
/// kernel buffer then absorbs the burst; what it cannot hold is counted as dropped).
const CHANNEL_BATCHES: usize = 256;
/// Most packets per batch.
const BATCH_PACKETS: usize = 4096;
const POLL_MS: i32 = 50;
/// Default kernel buffer of an immediate-mode handle, at least. On Linux libpcap's immediate mode
/// uses a ring of fixed-size slots, each sized for the largest packet the interface can
/// hand over: with segmentation offload (loopback, most NICs) 256 KiB, so 16 MiB is only
/// 32 packets, too few for a burst arriving while the thread is not running (measured:
/// 64 MiB still dropped at wrk's first burst, 128 MiB did not in 4 runs). The handle is
/// closed, and its memory freed, when load switches the capture to block delivery.
pub const IMMEDIATE_BUFFER: i32 = 128 << 20;
/// Packets in one poll of an immediate-mode capture that count as heavy load.
const HEAVY_POLL: u64 = 128;
/// Packets held by the capture thread while the channel is full, at most (bytes, packets).
const MAX_BACKLOG_BYTES: usize = 64 << 20;
const MAX_BACKLOG_PACKETS: usize = 1 << 20;
const STATS_EVERY: Duration = Duration::from_millis(250);

impl Live {
    /// Open the interface (errors come back here, before any thread starts) and start
    /// capturing on a thread.
    pub fn start(cfg: LiveConfig) -> Result<Live, LiveError> {
        let (iface, default_device) = match &cfg.interface {
            Some(i) => (i.clone(), false),
            None => (default_device()?, true),
        };
        let cap = open(&iface, &cfg, cfg.immediate)?;
        // Immediate mode may have to give way to block delivery under load. The block-mode
        // handle is opened now, with a filter that takes nothing, so that the switch is one
        // filter change and no packet falls between the two handles while one opens.
        let standby = if cfg.immediate {
            open_standby(&iface, &cfg)
        } else {
            None
        };
        let linktype = dlt_to_linktype(cap.get_datalink().0);
        let save = match &cfg.write {
            Some(p) => Some(cap.savefile(p).map_err(|e| LiveError::Savefile {
                file: p.display().to_string(),
                detail: libpcap_message(e),
            })?),
            None => None,
        };
        let (tx, rx) = sync_channel(CHANNEL_BATCHES);
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::Builder::new()
            .name("tcpscope-capture".into())
            .spawn({
                let name = iface.clone();
                move || capture_loop(name, cap, standby, save, linktype, cfg, st, tx)
            })
            .map_err(|e| LiveError::Open {
                iface: iface.clone(),
                detail: format!("cannot start the capture thread: {e}"),
            })?;
        Ok(Live {
            interface: iface,
            default_device,
            rx,
            stop,
            thread: Some(thread),
        })
    }

    /// Ask the capture thread to stop; it closes the -w file and sends `Stopped`.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// The flag `stop` sets (for signal handlers).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// "lo" or "eth0 (libpcap's default)".
    pub fn describe(&self) -> String {
        if self.default_device {
            format!("{} (libpcap's default)", self.interface)
        } else {
            self.interface.clone()
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop();
        // Unblock a send on a full channel, then wait for the -w file to be closed.
        while self.rx.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            loop {
                if t.is_finished() {
                    break;
                }
                while self.rx.try_recv().is_ok() {}
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = t.join();
        }
    }
}

/// Open `iface` as `cfg` says, non-blocking, with the filter applied.
fn open(
    iface: &str,
    cfg: &LiveConfig,
    immediate: bool,
) -> Result<pcap::Capture<pcap::Active>, LiveError> {
    let inactive = pcap::Capture::from_device(iface)
        .map_err(|e| open_error(iface, &e))?
        .immediate_mode(immediate)
        .snaplen(cfg.snaplen)
        .promisc(cfg.promisc)
        .buffer_size(if immediate {
            cfg.buffer_bytes.max(cfg.immediate_buffer_bytes)
        } else {
            cfg.buffer_bytes
        })
        .timeout(POLL_MS)
        .precision(pcap::Precision::Nano);
    let mut cap = inactive.open().map_err(|e| open_error(iface, &e))?;
    if let Some(f) = &cfg.filter {
        cap.filter(f, true).map_err(|e| bad_filter(f, &e, &cap))?;
    }
    cap.setnonblock().map_err(|e| open_error(iface, &e))
}

/// A BPF program no packet passes (every packet is longer than 0 bytes).
const TAKE_NOTHING: &str = "less 0";

/// A block-delivery handle on `iface` that takes nothing until [`arm`] gives it the real
/// filter. None when it cannot be opened (the switch then opens one when needed).
fn open_standby(iface: &str, cfg: &LiveConfig) -> Option<pcap::Capture<pcap::Active>> {
    let quiet = LiveConfig {
        filter: Some(TAKE_NOTHING.into()),
        ..cfg.clone()
    };
    open(iface, &quiet, false).ok()
}

/// Give a standby handle the capture's real filter: from this call on it sees every
/// packet the capture should.
fn arm(standby: &mut pcap::Capture<pcap::Active>, cfg: &LiveConfig) -> bool {
    standby
        .filter(cfg.filter.as_deref().unwrap_or(""), true)
        .is_ok()
}

fn default_device() -> Result<String, LiveError> {
    match pcap::Device::lookup() {
        Ok(Some(d)) => Ok(d.name),
        Ok(None) => Err(LiveError::NoDefault),
        Err(e) => Err(LiveError::List {
            detail: e.to_string(),
        }),
    }
}

/// Counters with libpcap's added to those of handles closed earlier (`base`).
fn stats_of(cap: &mut pcap::Capture<pcap::Active>, mut s: LiveStats, base: LiveStats) -> LiveStats {
    if let Ok(p) = cap.stats() {
        s.kernel_drops = base.kernel_drops + u64::from(p.dropped);
        s.interface_drops = base.interface_drops + u64::from(p.if_dropped);
    }
    s
}

fn is_down(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("went down")
        || m.contains("disappeared")
        || m.contains("no longer")
        || m.contains("no such device")
        || m.contains("network is down")
}

/// Whether the interface is administratively up, from sysfs (Linux). libpcap reports an
/// interface that disappears, but not one set down while a non-blocking capture runs.
/// Interfaces without a sysfs entry (`any`, pseudo-devices) count as up.
fn is_up(iface: &str) -> bool {
    if iface.contains('/') || iface.starts_with('.') {
        return true;
    }
    let Ok(s) = std::fs::read_to_string(format!("/sys/class/net/{iface}/flags")) else {
        return true;
    };
    u32::from_str_radix(s.trim().trim_start_matches("0x"), 16).is_ok_and(|f| f & 1 == 1)
        || s.trim().is_empty()
}

/// Packets on their way to the pipeline. The capture thread does not wait for a slow
/// consumer (the TUI drawing, a snapshot being taken) while the backlog is under
/// [`MAX_BACKLOG_BYTES`]: it keeps emptying the kernel buffer, which in immediate mode holds
/// only a few hundred packets, and holds the packets here until the channel has room.
struct Outbox {
    tx: SyncSender<Event>,
    pending: Batch,
}

/// Consumer gone.
struct Gone;

impl Outbox {
    fn new(tx: SyncSender<Event>, linktype: u32) -> Outbox {
        Outbox {
            tx,
            pending: Batch {
                linktype,
                ..Default::default()
            },
        }
    }

    /// Hand the pending packets over if the channel has room. With `wait`, or a backlog
    /// over the cap, wait for room (the kernel buffer then takes the pressure and counts
    /// what it cannot hold as dropped).
    fn flush(&mut self, wait: bool) -> Result<(), Gone> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // The next batch starts at this one's size: no regrowing from empty under load.
        let fresh = Batch {
            linktype: self.pending.linktype,
            data: Vec::with_capacity(self.pending.data.len()),
            recs: Vec::with_capacity(self.pending.recs.len()),
        };
        let b = std::mem::replace(&mut self.pending, fresh);
        if wait || b.data.len() >= MAX_BACKLOG_BYTES || b.recs.len() >= MAX_BACKLOG_PACKETS {
            return self.tx.send(Event::Packets(b)).map_err(|_| Gone);
        }
        match self.tx.try_send(Event::Packets(b)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(Event::Packets(b))) => {
                self.pending = b;
                Ok(())
            }
            Err(_) => Err(Gone),
        }
    }

    /// Send counters unless the channel is full (newer ones follow).
    fn stats(&mut self, s: LiveStats) -> Result<(), Gone> {
        match self.tx.try_send(Event::Stats(s)) {
            Err(TrySendError::Disconnected(_)) => Err(Gone),
            _ => Ok(()),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn capture_loop(
    iface: String,
    mut cap: pcap::Capture<pcap::Active>,
    mut standby: Option<pcap::Capture<pcap::Active>>,
    mut save: Option<pcap::Savefile>,
    linktype: u32,
    cfg: LiveConfig,
    stop: Arc<AtomicBool>,
    tx: SyncSender<Event>,
) {
    let mut fd = cap.as_raw_fd();
    let start = Instant::now();
    let mut out = Outbox::new(tx, linktype);
    let mut stats = LiveStats::default();
    // Drops counted by handles already closed (after a switch to block delivery).
    let mut base = LiveStats::default();
    let mut immediate = cfg.immediate;
    // After a switch: packets both handles saw, skipped on the new one.
    let mut dedup: Option<Overlap> = None;
    let mut last_stats = Instant::now();
    let reason = 'outer: loop {
        if stop.load(Ordering::SeqCst) {
            break StopReason::Requested;
        }
        if cfg.duration.is_some_and(|d| start.elapsed() >= d) {
            break StopReason::Duration;
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, owned by this frame.
        unsafe { libc::poll(&mut pfd, 1, POLL_MS) };
        let before_poll = stats.captured;
        loop {
            let taken = usize::try_from(stats.captured - before_poll).unwrap_or(usize::MAX);
            let room = BATCH_PACKETS.saturating_sub(taken);
            let want = match cfg.count {
                Some(c) => room.min(usize::try_from(c - stats.captured).unwrap_or(room)),
                None => room,
            };
            if want == 0 {
                break;
            }
            let r = cap.dispatch(Some(want), |p| {
                take_packet(&p, &mut stats, &mut save, &mut out.pending, &mut dedup);
            });
            match r {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    let msg = libpcap_message(e);
                    break 'outer if is_down(&msg) {
                        StopReason::InterfaceDown(msg)
                    } else {
                        StopReason::Error(msg)
                    };
                }
            }
        }
        // A poll that brings this many packets means a load where one wake-up per
        // packet is about to fall behind: switch before the kernel drops anything.
        let heavy = stats.captured - before_poll >= HEAVY_POLL;
        if out.flush(false).is_err() {
            break StopReason::Disconnected;
        }
        if cfg.count.is_some_and(|c| stats.captured >= c) {
            break StopReason::Count;
        }
        // Immediate mode is one wake-up per packet; under a load it cannot follow, the
        // kernel drops. At a heavy poll or the first drop the capture moves to the standby
        // handle with block delivery (packets then arrive at most POLL_MS late).
        // (The drop counter is one getsockopt, read only when the poll was not heavy.)
        if immediate
            && (heavy || stats_of(&mut cap, stats, base).kernel_drops > base.kernel_drops)
            && let Some(new) = standby
                .take()
                .and_then(|mut s| arm(&mut s, &cfg).then_some(s))
                .or_else(|| open(&iface, &cfg, false).ok())
        {
            // The new handle now sees every packet. The old one's drops up to this moment
            // (read again: more may have come while the new handle was armed) are losses
            // and stay counted; from here on the new handle has what it drops.
            stats = stats_of(&mut cap, stats, base);
            base = stats;
            // Read what the old handle still holds (nothing is lost), remembering it: the
            // new handle's first packets are the same ones, and are skipped once.
            let mut seen = Overlap::default();
            loop {
                let r = cap.dispatch(Some(BATCH_PACKETS), |p| {
                    seen.add(&p);
                    take_packet(&p, &mut stats, &mut save, &mut out.pending, &mut None);
                });
                if out.flush(false).is_err() {
                    break;
                }
                if !matches!(r, Ok(n) if n > 0) {
                    break;
                }
            }
            dedup = (!seen.copies.is_empty()).then_some(seen);
            cap = new;
            fd = cap.as_raw_fd();
            immediate = false;
            stats.buffered_from = Some(stats.captured + 1);
        }
        if last_stats.elapsed() >= STATS_EVERY {
            last_stats = Instant::now();
            if let Some(s) = save.as_mut() {
                let _ = s.flush();
            }
            stats = stats_of(&mut cap, stats, base);
            if out.stats(stats).is_err() {
                break StopReason::Disconnected;
            }

            if !is_up(&iface) {
                break StopReason::InterfaceDown("the interface went down".into());
            }
        }
    };
    stats = stats_of(&mut cap, stats, base);
    if let Some(mut s) = save.take() {
        let _ = s.flush();
        // Dropping closes the file (pcap_dump_close): whole records only.
        drop(s);
    }
    let _ = out.flush(true);
    let _ = out.tx.send(Event::Stopped(reason, stats));
}

/// After a switch of handles: the packets the old one delivered, so that the new handle's
/// copies of them are skipped.
///
/// A packet is known by its bytes and lengths, not its time: each packet socket stamps its
/// own copy (measured on loopback: the two copies 310 ns apart, in the other order).
/// Only packets stamped up to [`OVERLAP_SLACK_NS`] after the old handle's last one are looked
/// up; the overlap is the few packets that arrive while the old handle is read out.
#[derive(Default)]
struct Overlap {
    /// Copies still to skip, by key.
    copies: HashMap<PacketKey, u32>,
    /// The old handle's last packet time.
    last: Ts,
}

type PacketKey = (u64, u32, u32);

/// How far past the old handle's last packet a copy can be stamped.
const OVERLAP_SLACK_NS: i64 = 10_000_000;

impl Overlap {
    fn add(&mut self, p: &pcap::Packet<'_>) {
        *self.copies.entry(packet_key(p)).or_default() += 1;
        self.last = self.last.max(packet_ts(p));
    }

    /// Whether `p` is a copy of a packet already taken (then it is forgotten: a second copy
    /// is a packet of its own). `None`: the overlap is over.
    fn skip(&mut self, p: &pcap::Packet<'_>) -> Option<bool> {
        if packet_ts(p).0 > self.last.0.saturating_add(OVERLAP_SLACK_NS) {
            return None;
        }
        let key = packet_key(p);
        Some(match self.copies.get_mut(&key) {
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    self.copies.remove(&key);
                }
                true
            }
            None => false,
        })
    }
}

fn packet_ts(p: &pcap::Packet<'_>) -> Ts {
    Ts::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec)
}

/// A packet's identity across two capture handles on the same interface.
fn packet_key(p: &pcap::Packet<'_>) -> PacketKey {
    let mut h = std::hash::DefaultHasher::new();
    p.data.hash(&mut h);
    (h.finish(), p.header.len, p.header.caplen)
}

/// Count, save and batch one captured packet (skipping the duplicates of a switch).
fn take_packet(
    p: &pcap::Packet<'_>,
    stats: &mut LiveStats,
    save: &mut Option<pcap::Savefile>,
    batch: &mut Batch,
    dedup: &mut Option<Overlap>,
) {
    if let Some(o) = dedup.as_mut() {
        match o.skip(p) {
            Some(true) => return,
            Some(false) => {}
            None => *dedup = None,
        }
    }
    stats.captured += 1;
    if let Some(s) = save.as_mut() {
        s.write(p);
        stats.saved += 1;
    }
    let off = batch.data.len();
    batch.data.extend_from_slice(p.data);
    batch.recs.push(Rec {
        index: stats.captured,
        ts: packet_ts(p),
        orig_len: p.header.len,
        off,
        len: p.data.len(),
    });
}

fn exe_name() -> String {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "tcpscope".into())
}

fn open_error(iface: &str, e: &pcap::Error) -> LiveError {
    let detail = libpcap_message(e);
    let lower = detail.to_ascii_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        LiveError::PermissionDenied {
            iface: iface.into(),
            exe: exe_name(),
        }
    } else if lower.contains("no such device") {
        LiveError::NoSuchInterface {
            iface: iface.into(),
            available: interface_names(),
        }
    } else if lower.contains("not up") || lower.contains("is down") {
        LiveError::InterfaceDown {
            iface: iface.into(),
        }
    } else {
        LiveError::Open {
            iface: iface.into(),
            detail,
        }
    }
}

fn interface_names() -> Vec<String> {
    pcap::Device::list()
        .map(|v| v.into_iter().map(|d| d.name).collect())
        .unwrap_or_default()
}

/// Split a filter into tokens with their byte offsets: words, and each bracket or
/// operator character on its own.
fn tokens(f: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, ch) in f.char_indices() {
        let punct = "()[]!=<>&|+*/%^".contains(ch);
        if ch.is_whitespace() || punct {
            if let Some(s) = start.take() {
                out.push((s, i));
            }
            if punct {
                out.push((i, i + ch.len_utf8()));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, f.len()));
    }
    out
}

/// Where in `filter` libpcap's complaint points: a quoted token it names, a number it
/// names, or (for a bare "syntax error") the first token after which no completion of
/// the filter parses.
pub fn locate_error(filter: &str, message: &str, parses: &dyn Fn(&str) -> bool) -> (usize, usize) {
    for q in ['\'', '"'] {
        let mut parts = message.split(q);
        if let (Some(_), Some(tok)) = (parts.next(), parts.next())
            && !tok.is_empty()
            && let Some(at) = filter.find(tok)
        {
            return (at, tok.len());
        }
    }
    for (s, e) in tokens(filter) {
        let t = &filter[s..e];
        if t.chars().any(|c| c.is_ascii_digit()) && message.split_whitespace().any(|w| w == t) {
            return (s, e - s);
        }
    }
    let toks = tokens(filter);
    if message.contains("syntax error") {
        for k in 0..toks.len() {
            let prefix = &filter[..toks[k].1];
            let depth = prefix
                .matches('(')
                .count()
                .saturating_sub(prefix.matches(')').count());
            let close = ")".repeat(depth);
            let viable = ["", " 1", " tcp", " and tcp", " 1.2.3.4", "]"]
                .iter()
                .any(|c| parses(&format!("{prefix}{c}{close}")));
            if !viable {
                let (s, e) = toks[k];
                return (s, e - s);
            }
        }
        // Everything parsed up to the end: the filter stops too early.
        return (filter.len(), 1);
    }
    (0, filter.len().max(1))
}

/// The caret line under `filter` for a span.
pub fn marker(filter: &str, (at, len): (usize, usize)) -> String {
    let pad = filter[..at.min(filter.len())].chars().count();
    format!("{}{}", " ".repeat(pad), "^".repeat(len.max(1)))
}

fn bad_filter(filter: &str, e: &pcap::Error, cap: &pcap::Capture<pcap::Active>) -> LiveError {
    let message = libpcap_message(e);
    // A syntax error is one the parser reports; "unknown host" and the like are not.
    let parses = |f: &str| match cap.compile(f, false) {
        Ok(_) => true,
        Err(e) => !e.to_string().contains("syntax error"),
    };
    let span = locate_error(filter, &message, &parses);
    LiveError::BadFilter {
        filter: filter.to_string(),
        marker: marker(filter, span),
        message,
    }
}

/// One interface as `tcpscope interfaces` shows it.
#[derive(Clone, Debug)]
pub struct InterfaceInfo {
    pub name: String,
    pub description: Option<String>,
    pub addresses: Vec<String>,
    pub flags: Vec<&'static str>,
    /// Link types libpcap offers on it (None: it could not be opened to ask).
    pub linktypes: Result<Vec<String>, String>,
    pub is_default: bool,
}

/// Every interface libpcap can capture on, default first as libpcap orders them.
pub fn interfaces() -> Result<Vec<InterfaceInfo>, LiveError> {
    let devs = pcap::Device::list().map_err(|e| LiveError::List {
        detail: e.to_string(),
    })?;
    let default = pcap::Device::lookup().ok().flatten().map(|d| d.name);
    Ok(devs
        .into_iter()
        .map(|d| {
            let mut flags = Vec::new();
            if d.flags.is_up() {
                flags.push("up");
            } else {
                flags.push("down");
            }
            if d.flags.is_running() {
                flags.push("running");
            }
            if d.flags.is_loopback() {
                flags.push("loopback");
            }
            if d.flags.is_wireless() {
                flags.push("wireless");
            }
            let addresses = d
                .addresses
                .iter()
                .map(|a| match a.netmask {
                    Some(m) => format!("{}/{}", a.addr, prefix_len(m)),
                    None => a.addr.to_string(),
                })
                .collect();
            let linktypes = pcap::Capture::from_device(d.name.as_str())
                .and_then(|c| c.snaplen(256).open())
                .and_then(|c| c.list_datalinks())
                .map(|v| {
                    v.into_iter()
                        .map(|l| {
                            let n = super::linktype_name(dlt_to_linktype(l.0));
                            match l.get_name() {
                                Ok(p) if n.starts_with("LINKTYPE_") => p,
                                _ => n,
                            }
                        })
                        .collect()
                })
                .map_err(|e| {
                    let m = e.to_string();
                    if m.to_ascii_lowercase().contains("permission") || m.contains("not permitted")
                    {
                        "? (needs root or cap_net_raw)".to_string()
                    } else {
                        format!("? ({})", libpcap_message(&m))
                    }
                });
            InterfaceInfo {
                is_default: default.as_deref() == Some(d.name.as_str()),
                name: d.name,
                description: d.desc,
                addresses,
                flags,
                linktypes,
            }
        })
        .collect())
}

fn prefix_len(m: std::net::IpAddr) -> u32 {
    match m {
        std::net::IpAddr::V4(a) => u32::from(a).count_ones(),
        std::net::IpAddr::V6(a) => u128::from(a).count_ones(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ns: i64, len: usize) -> pcap::PacketHeader {
        pcap::PacketHeader {
            ts: libc::timeval {
                tv_sec: 1_795_695_318,
                tv_usec: ns as _,
            },
            caplen: len as u32,
            len: len as u32,
        }
    }

    /// Two sockets stamp their own copies of a packet (on loopback the new handle's copy
    /// was measured 310 ns earlier): the copy is still recognised by its bytes, once.
    #[test]
    fn overlap_skips_each_copy_once_whatever_its_stamp() {
        let (a, b) = (b"segment a".as_slice(), b"segment b".as_slice());
        let mut o = Overlap::default();
        let (ha, hb) = (header(435_396_000, a.len()), header(435_397_108, b.len()));
        o.add(&pcap::Packet::new(&ha, a));
        o.add(&pcap::Packet::new(&hb, b));
        let hb_new = header(435_396_798, b.len());
        assert_eq!(o.skip(&pcap::Packet::new(&hb_new, b)), Some(true));
        // The same bytes again are a packet of their own (a retransmission).
        assert_eq!(o.skip(&pcap::Packet::new(&hb_new, b)), Some(false));
        // A packet the old handle never delivered (it dropped it) is kept.
        let c = b"segment c".as_slice();
        let hc = header(435_398_000, c.len());
        assert_eq!(o.skip(&pcap::Packet::new(&hc, c)), Some(false));
        // Past the slack the overlap is over, even for bytes it still holds.
        let late = header(435_397_108 + OVERLAP_SLACK_NS + 1, a.len());
        assert_eq!(o.skip(&pcap::Packet::new(&late, a)), None);
    }

    #[test]
    fn take_packet_skips_overlap_then_numbers_on() {
        let mut o = Overlap::default();
        let h = header(1_000, 3);
        o.add(&pcap::Packet::new(&h, b"abc"));
        let mut dedup = Some(o);
        let (mut stats, mut batch) = (LiveStats::default(), Batch::default());
        let h2 = header(900, 3);
        take_packet(
            &pcap::Packet::new(&h2, b"abc"),
            &mut stats,
            &mut None,
            &mut batch,
            &mut dedup,
        );
        take_packet(
            &pcap::Packet::new(&h2, b"xyz"),
            &mut stats,
            &mut None,
            &mut batch,
            &mut dedup,
        );
        assert_eq!(stats.captured, 1);
        assert!(dedup.is_some());
        let h3 = header(1_000 + OVERLAP_SLACK_NS + 1, 3);
        take_packet(
            &pcap::Packet::new(&h3, b"abc"),
            &mut stats,
            &mut None,
            &mut batch,
            &mut dedup,
        );
        assert!(dedup.is_none());
        assert_eq!(stats.captured, 2);
        let got: Vec<_> = batch
            .packets()
            .map(|p| (p.index, p.data.to_vec()))
            .collect();
        assert_eq!(got, vec![(1, b"xyz".to_vec()), (2, b"abc".to_vec())]);
    }

    fn no_syntax(f: &str) -> bool {
        // A toy grammar: "tcp port N" where N is a number, optionally in parentheses.
        let t: Vec<&str> = f
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
            .filter(|s| !s.is_empty())
            .collect();
        match t.as_slice() {
            ["tcp"] | ["tcp", "and", "tcp"] => true,
            ["tcp", "port", n] | ["tcp", "port", n, "and", "tcp"] => {
                n.chars().all(|c| c.is_ascii_digit())
            }
            _ => false,
        }
    }

    #[test]
    fn quoted_token_is_marked() {
        let f = "tcp port foo";
        let span = locate_error(f, "unknown port 'foo'", &no_syntax);
        assert_eq!(span, (9, 3));
        assert_eq!(marker(f, span), "         ^^^");
    }

    #[test]
    fn number_named_is_marked() {
        let f = "tcp and port 99999";
        let span = locate_error(f, "illegal port number 99999 > 65535", &no_syntax);
        assert_eq!(&f[span.0..span.0 + span.1], "99999");
    }

    #[test]
    fn bare_syntax_error_marks_first_dead_token() {
        let f = "tcp prot 80";
        let span = locate_error(f, "can't parse filter expression: syntax error", &no_syntax);
        assert_eq!(&f[span.0..span.0 + span.1], "prot");
    }

    #[test]
    fn truncated_filter_marks_the_end() {
        let f = "tcp port";
        let span = locate_error(f, "can't parse filter expression: syntax error", &no_syntax);
        assert_eq!(span.0, f.len());
        assert_eq!(marker(f, span), "        ^");
    }

    #[test]
    fn tokens_split_brackets() {
        let f = "tcp[13]&2!=0";
        let t: Vec<&str> = tokens(f).iter().map(|&(s, e)| &f[s..e]).collect();
        assert_eq!(t, ["tcp", "[", "13", "]", "&", "2", "!", "=", "0"]);
    }
}
