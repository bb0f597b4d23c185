//! The capture thread's side of the channel: packets counted, saved and batched
//! ([`take_packet`]), held while the consumer is slow ([`Outbox`]), and the packets two
//! handles both delivered skipped once after a switch ([`Overlap`]).

use super::{Batch, Event, LiveStats, MAX_BACKLOG_BYTES, MAX_BACKLOG_PACKETS, Rec};
use crate::ts::Ts;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::mpsc::{SyncSender, TrySendError};

/// Packets on their way to the pipeline. The capture thread does not wait for a slow
/// consumer (the TUI drawing, a snapshot being taken) while the backlog is under
/// [`MAX_BACKLOG_BYTES`]: it keeps emptying the kernel buffer, which in immediate mode holds
/// only a few hundred packets, and holds the packets here until the channel has room.
pub(super) struct Outbox {
    pub(super) tx: SyncSender<Event>,
    pub(super) pending: Batch,
}

/// Consumer gone.
pub(super) struct Gone;

impl Outbox {
    pub(super) fn new(tx: SyncSender<Event>, linktype: u32) -> Outbox {
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
    pub(super) fn flush(&mut self, wait: bool) -> Result<(), Gone> {
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
    pub(super) fn stats(&mut self, s: LiveStats) -> Result<(), Gone> {
        match self.tx.try_send(Event::Stats(s)) {
            Err(TrySendError::Disconnected(_)) => Err(Gone),
            _ => Ok(()),
        }
    }
}

/// After a switch of handles: the packets the old one delivered, so that the new handle's
/// copies of them are skipped.
///
/// A packet is known by its bytes and lengths, not its time: each packet socket stamps its
/// own copy (measured on loopback: the two copies 310 ns apart, in the other order).
/// Only packets stamped up to [`OVERLAP_SLACK_NS`] after the old handle's last one are looked
/// up; the overlap is the few packets that arrive while the old handle is read out.
#[derive(Default)]
pub(super) struct Overlap {
    /// Copies still to skip, by key.
    pub(super) copies: HashMap<PacketKey, u32>,
    /// The old handle's last packet time.
    last: Ts,
}

type PacketKey = (u64, u32, u32);

/// How far past the old handle's last packet a copy can be stamped.
const OVERLAP_SLACK_NS: i64 = 10_000_000;

impl Overlap {
    pub(super) fn add(&mut self, p: &pcap::Packet<'_>) {
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
pub(super) fn take_packet(
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
}
