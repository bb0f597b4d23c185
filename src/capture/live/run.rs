//! The capture thread: poll, read a batch, hand it over, and under load move from the
//! immediate-mode handle to the block-delivery one without losing or repeating a packet.

use super::outbox::{Outbox, Overlap, take_packet};
use super::{
    BATCH_PACKETS, Event, HEAVY_POLL, LiveConfig, LiveStats, POLL_MS, STATS_EVERY, StopReason, arm,
    is_down, is_up, open, stats_of,
};
use crate::capture::libpcap_message;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::Instant;

/// The interface, its libpcap handles and the `-w` savefile.
pub(super) struct Handles {
    pub(super) iface: String,
    pub(super) cap: pcap::Capture<pcap::Active>,
    /// The block-delivery handle opened beside an immediate-mode one.
    pub(super) standby: Option<pcap::Capture<pcap::Active>>,
    pub(super) save: Option<pcap::Savefile>,
}

/// Everything the capture thread owns.
struct Capture {
    iface: String,
    cap: pcap::Capture<pcap::Active>,
    standby: Option<pcap::Capture<pcap::Active>>,
    save: Option<pcap::Savefile>,
    cfg: LiveConfig,
    out: Outbox,
    stats: LiveStats,
    /// Drops counted by handles already closed (after a switch to block delivery).
    base: LiveStats,
    immediate: bool,
    /// After a switch: packets both handles saw, skipped on the new one.
    dedup: Option<Overlap>,
    last_stats: Instant,
}

pub(super) fn capture_loop(
    h: Handles,
    linktype: u32,
    cfg: LiveConfig,
    stop: Arc<AtomicBool>,
    tx: SyncSender<Event>,
) {
    let start = Instant::now();
    let Handles {
        iface,
        cap,
        standby,
        save,
    } = h;
    let mut c = Capture {
        iface,
        cap,
        standby,
        save,
        immediate: cfg.immediate,
        cfg,
        out: Outbox::new(tx, linktype),
        stats: LiveStats::default(),
        base: LiveStats::default(),
        dedup: None,
        last_stats: Instant::now(),
    };
    let reason = loop {
        if stop.load(Ordering::SeqCst) {
            break StopReason::Requested;
        }
        if c.cfg.duration.is_some_and(|d| start.elapsed() >= d) {
            break StopReason::Duration;
        }
        if let Err(r) = c.step() {
            break r;
        }
    };
    c.finish(reason);
}

impl Capture {
    /// One poll: read, hand over, maybe switch handles, maybe report counters.
    fn step(&mut self) -> Result<(), StopReason> {
        let mut pfd = libc::pollfd {
            fd: self.cap.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, owned by this frame.
        unsafe { libc::poll(&mut pfd, 1, POLL_MS) };
        let before_poll = self.stats.captured;
        self.read_batch(before_poll)?;
        // A poll that brings this many packets means a load where one wake-up per
        // packet is about to fall behind: switch before the kernel drops anything.
        let heavy = self.stats.captured - before_poll >= HEAVY_POLL;
        if self.out.flush(false).is_err() {
            return Err(StopReason::Disconnected);
        }
        if self.cfg.count.is_some_and(|c| self.stats.captured >= c) {
            return Err(StopReason::Count);
        }
        self.maybe_switch(heavy);
        if self.last_stats.elapsed() >= STATS_EVERY {
            self.report()?;
        }
        Ok(())
    }

    /// Read what the handle holds, up to a batch (and the `-c` count).
    fn read_batch(&mut self, before_poll: u64) -> Result<(), StopReason> {
        loop {
            let taken = usize::try_from(self.stats.captured - before_poll).unwrap_or(usize::MAX);
            let room = BATCH_PACKETS.saturating_sub(taken);
            let want = match self.cfg.count {
                Some(c) => room.min(usize::try_from(c - self.stats.captured).unwrap_or(room)),
                None => room,
            };
            if want == 0 {
                return Ok(());
            }
            let (stats, save, pending, dedup) = (
                &mut self.stats,
                &mut self.save,
                &mut self.out.pending,
                &mut self.dedup,
            );
            let r = self.cap.dispatch(Some(want), |p| {
                take_packet(&p, stats, save, pending, dedup);
            });
            match r {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => {
                    let msg = libpcap_message(e);
                    return Err(if is_down(&msg) {
                        StopReason::InterfaceDown(msg)
                    } else {
                        StopReason::Error(msg)
                    });
                }
            }
        }
    }

    /// Immediate mode is one wake-up per packet; under a load it cannot follow, the
    /// kernel drops. At a heavy poll or the first drop the capture moves to the standby
    /// handle with block delivery (packets then arrive at most POLL_MS late).
    /// (The drop counter is one getsockopt, read only when the poll was not heavy.)
    fn maybe_switch(&mut self, heavy: bool) {
        if !self.immediate {
            return;
        }
        if !heavy
            && stats_of(&mut self.cap, self.stats, self.base).kernel_drops <= self.base.kernel_drops
        {
            return;
        }
        let cfg = &self.cfg;
        let Some(new) = self
            .standby
            .take()
            .and_then(|mut s| arm(&mut s, cfg).then_some(s))
            .or_else(|| open(&self.iface, cfg, false).ok())
        else {
            return;
        };
        // The new handle now sees every packet. The old one's drops up to this moment
        // (read again: more may have come while the new handle was armed) are losses
        // and stay counted; from here on the new handle has what it drops.
        self.stats = stats_of(&mut self.cap, self.stats, self.base);
        self.base = self.stats;
        self.drain_old();
        self.cap = new;
        self.immediate = false;
        self.stats.buffered_from = Some(self.stats.captured + 1);
    }

    /// Read what the old handle still holds (nothing is lost), remembering it: the new
    /// handle's first packets are the same ones, and are skipped once.
    fn drain_old(&mut self) {
        let mut seen = Overlap::default();
        loop {
            let (stats, save, pending) = (&mut self.stats, &mut self.save, &mut self.out.pending);
            let r = self.cap.dispatch(Some(BATCH_PACKETS), |p| {
                seen.add(&p);
                take_packet(&p, stats, save, pending, &mut None);
            });
            if self.out.flush(false).is_err() {
                break;
            }
            if !matches!(r, Ok(n) if n > 0) {
                break;
            }
        }
        self.dedup = (!seen.copies.is_empty()).then_some(seen);
    }

    /// Every STATS_EVERY: flush the savefile, send the counters, check the interface.
    fn report(&mut self) -> Result<(), StopReason> {
        self.last_stats = Instant::now();
        if let Some(s) = self.save.as_mut() {
            let _ = s.flush();
        }
        self.stats = stats_of(&mut self.cap, self.stats, self.base);
        if self.out.stats(self.stats).is_err() {
            return Err(StopReason::Disconnected);
        }
        if !is_up(&self.iface) {
            return Err(StopReason::InterfaceDown("the interface went down".into()));
        }
        Ok(())
    }

    fn finish(mut self, reason: StopReason) {
        let stats = stats_of(&mut self.cap, self.stats, self.base);
        if let Some(mut s) = self.save.take() {
            let _ = s.flush();
            // Dropping closes the file (pcap_dump_close): whole records only.
            drop(s);
        }
        let _ = self.out.flush(true);
        let _ = self.out.tx.send(Event::Stopped(reason, stats));
    }
}
