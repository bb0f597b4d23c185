//! Measurements of one connection: round-trip samples (Karn's rule), bytes in flight,
//! payload and throughput per direction. Sans-IO: times are the packets' own; a sample
//! that would run backwards in time is left out and counted, never clamped.

use super::seq::SeqNum;
use crate::ts::Ts;
use serde::Serialize;
use std::collections::VecDeque;

/// Round-trip samples (data -> ACK, Karn's rule: never from retransmitted data).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Rtt {
    pub samples: u32,
    pub min_ms: Option<f64>,
    pub avg_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// Samples left out: the ACK or the data it answers was stamped before an earlier
    /// packet of the connection (the capture's clock went back).
    pub samples_skipped: u32,
    #[serde(skip)]
    sum_ms: f64,
}

impl Rtt {
    fn add(&mut self, ms: f64) {
        if !(ms >= 0.0 && ms.is_finite()) {
            self.samples_skipped += 1;
            return;
        }
        self.samples += 1;
        self.sum_ms += ms;
        self.min_ms = Some(self.min_ms.map_or(ms, |m| m.min(ms)));
        self.max_ms = Some(self.max_ms.map_or(ms, |m| m.max(ms)));
        self.avg_ms = Some(self.sum_ms / f64::from(self.samples));
    }
}

/// Outstanding data of one direction, for RTT samples.
#[derive(Clone, Copy, Debug)]
struct Outstanding {
    end: SeqNum,
    ts: Ts,
    retransmitted: bool,
    /// Sent at a time not before any earlier packet of the connection.
    in_time: bool,
}

/// At most this many unacknowledged segments are remembered per direction.
const MAX_OUTSTANDING: usize = 256;

/// The unacknowledged segments of one direction, oldest first: the oldest inline (a
/// handshake-only connection has one per side, its SYN), the others in a box made at the
/// second (docs/memory.md: 24 bytes and no allocation, where a `VecDeque` took 32 and a
/// 32-byte allocation).
#[derive(Debug, Default)]
#[expect(
    clippy::box_collection,
    reason = "the box is the point: 8 bytes inline while one segment or none is out, not 32"
)]
struct Queue {
    first: Option<Outstanding>,
    more: Option<Box<VecDeque<Outstanding>>>,
}

impl Queue {
    fn front(&self) -> Option<&Outstanding> {
        self.first.as_ref()
    }

    fn back(&self) -> Option<&Outstanding> {
        self.more
            .as_ref()
            .and_then(|m| m.back())
            .or(self.first.as_ref())
    }

    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.more.as_ref().map_or(0, |m| m.len())
    }

    fn pop_front(&mut self) -> Option<Outstanding> {
        let out = self.first.take();
        self.first = self.more.as_mut().and_then(|m| m.pop_front());
        out
    }

    fn push_back(&mut self, x: Outstanding) {
        if self.first.is_none() {
            self.first = Some(x);
        } else {
            self.more.get_or_insert_default().push_back(x);
        }
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Outstanding> {
        self.first
            .iter_mut()
            .chain(self.more.iter_mut().flat_map(|m| m.iter_mut()))
    }
}

/// What one sender's data measured.
#[derive(Debug, Default)]
pub struct Meter {
    outstanding: Queue,
    /// At most 2^31 (a sequence-space distance): 32 bits.
    max_in_flight: u32,
    /// `first_data_ts` and `last_data_ts` were set (one flag for both, which are set
    /// together: 8 bytes where two `Option<Ts>` took 32).
    data_ts: bool,
    /// Payload bytes, retransmissions not counted.
    pub payload_bytes: u64,
    first_data_ts: Ts,
    last_data_ts: Ts,
}

impl Meter {
    /// The peer acknowledged up to `ack`: the newest segment it covers exactly gives an
    /// RTT sample, unless that segment was retransmitted (Karn) or time ran backwards.
    pub fn on_ack(&mut self, ack: SeqNum, ts: Ts, in_time: bool, rtt: &mut Rtt) {
        let mut newest = None;
        while let Some(front) = self.outstanding.front() {
            if front.end.le(ack) {
                newest = self.outstanding.pop_front();
            } else {
                break;
            }
        }
        if let Some(s) = newest
            && !s.retransmitted
            && s.end == ack
        {
            if s.in_time && in_time {
                rtt.add(ts.ms_since(s.ts));
            } else {
                rtt.samples_skipped += 1;
            }
        }
    }

    /// This side sent `seglen` sequence numbers from `seq`; `peer_ack` is the last ACK
    /// the peer sent (for bytes in flight).
    pub fn on_sent(
        &mut self,
        seq: SeqNum,
        seglen: u32,
        ts: Ts,
        in_time: bool,
        retransmitted: bool,
        peer_ack: Option<SeqNum>,
    ) {
        let end = seq.add(seglen);
        if retransmitted {
            for x in self.outstanding.iter_mut() {
                if x.end.gt(seq) {
                    x.retransmitted = true;
                }
            }
        } else if self.outstanding.back().is_none_or(|b| end.gt(b.end)) {
            if self.outstanding.len() >= MAX_OUTSTANDING {
                self.outstanding.pop_front();
            }
            self.outstanding.push_back(Outstanding {
                end,
                ts,
                retransmitted: false,
                in_time,
            });
        }
        if let Some(peer_ack) = peer_ack {
            // `diff` is an i32 widened: 0 ..= 2^31 - 1 fits.
            let inflight = end.diff(peer_ack).clamp(0, i64::from(u32::MAX)) as u32;
            self.max_in_flight = self.max_in_flight.max(inflight);
        }
    }

    /// New (not retransmitted) payload.
    pub fn on_payload(&mut self, len: u32, ts: Ts, in_time: bool) {
        self.payload_bytes += u64::from(len);
        if in_time {
            if !self.data_ts {
                self.first_data_ts = ts;
                self.data_ts = true;
            }
            self.last_data_ts = ts;
        }
    }

    /// Payload bytes per second between the first and last data segment.
    pub fn throughput_bps(&self) -> Option<f64> {
        if !self.data_ts {
            return None;
        }
        let (a, b) = (self.first_data_ts, self.last_data_ts);
        let secs = b.secs_since(a);
        (secs > 0.0).then(|| self.payload_bytes as f64 / secs)
    }

    /// The connection is over: forget outstanding segments.
    pub fn release(&mut self) {
        self.outstanding = Queue::default();
    }

    /// The most bytes in flight seen.
    pub fn max_in_flight(&self) -> u64 {
        u64::from(self.max_in_flight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: i64) -> Ts {
        Ts(n * 1_000_000)
    }

    #[test]
    fn rtt_from_the_exact_ack_and_never_from_a_resend() {
        let mut m = Meter::default();
        let mut rtt = Rtt::default();
        m.on_sent(SeqNum(1), 100, ms(0), true, false, None);
        m.on_sent(SeqNum(101), 100, ms(1), true, false, None);
        m.on_ack(SeqNum(201), ms(11), true, &mut rtt);
        assert_eq!((rtt.samples, rtt.min_ms), (1, Some(10.0)));
        m.on_sent(SeqNum(201), 100, ms(20), true, false, Some(SeqNum(201)));
        m.on_sent(SeqNum(201), 100, ms(30), true, true, Some(SeqNum(201)));
        m.on_ack(SeqNum(301), ms(31), true, &mut rtt);
        assert_eq!(rtt.samples, 1, "Karn: no sample from retransmitted data");
        assert_eq!(m.max_in_flight(), 100);
    }

    /// The queue (oldest inline, the rest boxed) keeps the newest 256 segments in order.
    #[test]
    fn the_outstanding_queue_keeps_the_newest_256_in_order() {
        let mut m = Meter::default();
        let mut rtt = Rtt::default();
        for i in 0..300u32 {
            m.on_sent(SeqNum(1 + 10 * i), 10, ms(i64::from(i)), true, false, None);
        }
        assert_eq!(m.outstanding.len(), MAX_OUTSTANDING);
        assert_eq!(m.outstanding.front().map(|o| o.end), Some(SeqNum(451)));
        // An ACK of segment 99 (sent at 99 ms) at 150 ms: one 51 ms sample.
        m.on_ack(SeqNum(1001), ms(150), true, &mut rtt);
        assert_eq!((rtt.samples, rtt.min_ms), (1, Some(51.0)));
        assert_eq!(m.outstanding.len(), 200);
        // A resend of segment 250 marks it and every later one: no sample from them.
        m.on_sent(SeqNum(2501), 10, ms(400), true, true, None);
        m.on_ack(SeqNum(2991), ms(500), true, &mut rtt);
        assert_eq!(rtt.samples, 1);
        assert_eq!(m.outstanding.len(), 1);
        m.on_ack(SeqNum(3001), ms(501), true, &mut rtt);
        assert_eq!((m.outstanding.len(), rtt.samples), (0, 1));
        m.on_sent(SeqNum(3001), 10, ms(600), true, false, None);
        m.on_ack(SeqNum(3011), ms(610), true, &mut rtt);
        assert_eq!(
            (rtt.samples, rtt.min_ms, rtt.max_ms),
            (2, Some(10.0), Some(51.0))
        );
    }

    #[test]
    fn time_running_backwards_is_skipped_and_counted() {
        let mut m = Meter::default();
        let mut rtt = Rtt::default();
        m.on_sent(SeqNum(1), 10, ms(50), true, false, None);
        m.on_ack(SeqNum(11), ms(40), false, &mut rtt);
        assert_eq!((rtt.samples, rtt.samples_skipped), (0, 1));
    }

    #[test]
    fn throughput_between_first_and_last_data() {
        let mut m = Meter::default();
        m.on_payload(500, ms(0), true);
        assert_eq!(m.throughput_bps(), None);
        m.on_payload(500, ms(500), true);
        assert_eq!(m.throughput_bps(), Some(2000.0));
    }
}
