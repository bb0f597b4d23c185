//! Tombstones: the tuples of connections already finished (evicted, or closed and written
//! at once in a live capture), remembered for a while with the connection's id, so that
//! their later packets (a retransmitted FIN in TIME-WAIT, the rest of an evicted
//! connection's stream) are counted against that connection instead of opening a
//! mid-stream one. A new SYN (another ISN) on the tuple still opens a new connection.
//!
//! Bounded: a tombstone lasts `linger` of packet time after the latest packet on its
//! tuple (one queue per kind, so each is in deadline order), and at most `cap` are kept
//! (the oldest closed ones go first, then the oldest evicted ones).

use super::{ConnId, Endpoint, FlowKey, FlowTable};
use std::collections::VecDeque;

/// Why a remembered tuple's connection was finished early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Closed (RST, or both FINs acknowledged) and finished at once.
    Closed,
    /// Finished because too many connections were tracked at once.
    Evicted,
}

/// How long tombstones last and how many are kept.
#[derive(Clone, Copy, Debug)]
pub struct TombLimits {
    /// Packet time a closed connection's tuple is remembered after its latest packet.
    pub closed_linger_ns: i64,
    /// Packet time an evicted connection's tuple is remembered after its latest packet.
    pub evicted_linger_ns: i64,
    /// Tombstones kept at most.
    pub cap: usize,
}

impl Default for TombLimits {
    fn default() -> Self {
        TombLimits {
            closed_linger_ns: 4_000_000_000,
            evicted_linger_ns: 600_000_000_000,
            cap: 400_000,
        }
    }
}

/// The tombstones' bookkeeping (the entries themselves are in the flow table's map).
#[derive(Default)]
pub(super) struct Tombs {
    pub(super) limits: TombLimits,
    /// Tombstones in the map.
    pub(super) count: usize,
    /// Tombstones forgotten before their time because of the cap.
    pub(super) forgotten: u64,
    /// (deadline, tuple, connection), per kind: [closed, evicted].
    queues: [VecDeque<(i64, FlowKey, ConnId)>; 2],
}

fn kind(why: Ended) -> usize {
    match why {
        Ended::Closed => 0,
        Ended::Evicted => 1,
    }
}

impl Tombs {
    fn linger(&self, k: usize) -> i64 {
        if k == 0 {
            self.limits.closed_linger_ns
        } else {
            self.limits.evicted_linger_ns
        }
    }
}

impl FlowTable {
    /// A flow table whose tombstones follow `limits`.
    pub fn with_limits(limits: TombLimits) -> Self {
        let mut t = FlowTable::default();
        t.tombs.limits = limits;
        t
    }

    /// Tombstones held now.
    pub fn tombstones(&self) -> usize {
        self.tombs.count
    }

    /// Tombstones dropped before their time because too many were held.
    pub fn tombstones_forgotten(&self) -> u64 {
        self.tombs.forgotten
    }

    /// `conn` on this tuple was finished (`why`) at packet time `now_ns`: remember its
    /// tuple so later packets are counted against it.
    pub fn bury(&mut self, a: Endpoint, b: Endpoint, conn: ConnId, why: Ended, now_ns: i64) {
        let key = FlowKey::new(a, b);
        let Some(e) = self.map.get_mut(&key).filter(|e| e.conn == conn) else {
            return;
        };
        if e.ended.is_none() {
            self.tombs.count += 1;
        }
        e.ended = Some(why);
        e.last_ns = e.last_ns.max(now_ns);
        let k = kind(why);
        let deadline = e.last_ns.saturating_add(self.tombs.linger(k));
        self.tombs.queues[k].push_back((deadline, key, conn));
        while self.tombs.count > self.tombs.limits.cap {
            let Some(k) = (0..2).find(|&k| !self.tombs.queues[k].is_empty()) else {
                break;
            };
            if self.pop_tomb(k, None) {
                self.tombs.forgotten += 1;
            }
        }
    }

    /// Forget the tombstones whose time is over as of `now_ns`.
    pub fn expire_tombs(&mut self, now_ns: i64) {
        for k in 0..2 {
            while self.tombs.queues[k]
                .front()
                .is_some_and(|&(d, _, _)| d <= now_ns)
            {
                self.pop_tomb(k, Some(now_ns));
            }
        }
    }

    /// Take the oldest entry of queue `k`; remove its tombstone unless it has been
    /// replaced, or (with `now`) has seen a packet since and is pushed back instead.
    /// Whether a tombstone was removed.
    fn pop_tomb(&mut self, k: usize, now: Option<i64>) -> bool {
        let Some((_, key, conn)) = self.tombs.queues[k].pop_front() else {
            return false;
        };
        let Some(e) = self.map.get(&key) else {
            return false;
        };
        if e.conn != conn || e.ended.map(kind) != Some(k) {
            return false;
        }
        let deadline = e.last_ns.saturating_add(self.tombs.linger(k));
        if now.is_some_and(|n| deadline > n) {
            self.tombs.queues[k].push_back((deadline, key, conn));
            return false;
        }
        self.map.remove(&key);
        self.tombs.count -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(p: u16) -> Endpoint {
        Endpoint {
            addr: "10.0.0.1".parse().unwrap(),
            port: p,
        }
    }

    #[test]
    fn late_packets_attach_to_a_buried_connection_and_a_new_syn_starts_another() {
        let mut t = FlowTable::with_limits(TombLimits::default());
        let (c, s) = (ep(40000), ep(80));
        assert_eq!(t.lookup(c, s, true, false, 100, 0).conn, 1);
        t.mark_closed(s, c);
        t.bury(c, s, 1, Ended::Closed, 10);
        // A retransmitted FIN: counted against connection 1.
        let l = t.lookup(s, c, false, true, 7, 1_000);
        assert_eq!((l.conn, l.new, l.late), (1, false, Some(Ended::Closed)));
        // A new SYN: a new connection, reusing the port of 1 (already finished).
        let l = t.lookup(c, s, true, false, 900, 2_000);
        assert_eq!(
            (l.conn, l.new, l.replaces, l.reuse_of),
            (2, true, None, Some(1))
        );
        assert_eq!(t.tombstones(), 0);
    }

    #[test]
    fn tombstones_expire_after_their_linger_and_stay_under_the_cap() {
        let limits = TombLimits {
            closed_linger_ns: 100,
            evicted_linger_ns: 1_000,
            cap: 3,
        };
        let mut t = FlowTable::with_limits(limits);
        let s = ep(80);
        for p in 1..=5u16 {
            let id = t.lookup(ep(p), s, false, true, 1, 0).conn;
            t.bury(ep(p), s, id, Ended::Evicted, 0);
        }
        assert_eq!((t.tombstones(), t.tombstones_forgotten()), (3, 2));
        // A late packet on tuple 5 keeps it longer.
        assert_eq!(
            t.lookup(ep(5), s, false, true, 9, 900).late,
            Some(Ended::Evicted)
        );
        t.expire_tombs(1_000);
        assert_eq!(t.tombstones(), 1);
        t.expire_tombs(1_900);
        assert_eq!((t.tombstones(), t.len()), (0, 0));
        // Forgotten: a packet on tuple 1 now starts a new (mid-stream) connection.
        assert!(t.lookup(ep(1), s, false, true, 1, 2_000).new);
    }
}
