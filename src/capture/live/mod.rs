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

mod filter;
mod interfaces;
mod outbox;
mod replay;
mod run;

pub use filter::{locate_error, marker};
pub use interfaces::{InterfaceInfo, interfaces};

use super::{RawPacket, dlt_to_linktype, libpcap_message};
use crate::ts::Ts;
use filter::bad_filter;
use interfaces::interface_names;
use run::{Handles, capture_loop};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

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
    /// When `--duration` ends (the consumer stops analysing then too, so a backlog
    /// under load does not stretch the run).
    pub deadline: Option<std::time::Instant>,
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
        let deadline = cfg.duration.map(|d| std::time::Instant::now() + d);
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
                let handles = Handles {
                    iface: iface.clone(),
                    cap,
                    standby,
                    save,
                };
                move || capture_loop(handles, linktype, cfg, st, tx)
            })
            .map_err(|e| LiveError::Open {
                iface: iface.clone(),
                detail: format!("cannot start the capture thread: {e}"),
            })?;
        Ok(Live {
            interface: iface,
            default_device,
            rx,
            deadline,
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
