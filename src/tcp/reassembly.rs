//! Byte-stream reassembly for ONE direction of one TCP connection.
//!
//! Owns: turning (sequence number, payload, frame) segments into an in-order
//! stream of [`StreamEvent`]s — de-duplicating retransmissions, ordering
//! out-of-order segments, detecting conflicting overlaps and reporting holes
//! as explicit gaps — plus the bounded out-of-order buffer that needs.
//! Must not touch: TCP flags or connection state (SYN/FIN/RST handling, which
//! direction is which, ACK tracking), packet parsing, or anything above TCP.
//! The caller decides when a stream starts, when bytes are known lost
//! ([`Reassembler::skip_to`]) and when it ends ([`Reassembler::flush`]); this
//! module never does I/O and never panics on packet contents.
//!
//! Sequence numbers are mapped to 64-bit stream offsets (0 = first byte after
//! the SYN) relative to the next expected sequence number, so streams longer
//! than 4 GiB and ISNs near 2^32 work. A segment is placed at the offset
//! closest to the next expected byte: anything up to 2^31 - 1 bytes ahead is
//! "ahead", anything else (including exactly 2^31 ahead) is read as being up
//! to 2^31 bytes *behind*, i.e. an old retransmission. Serial arithmetic cannot
//! tell those apart, and treating far-away junk as old costs nothing (no
//! events, counted as duplicate), whereas treating it as new would force
//! multi-GiB gaps.

use std::collections::BTreeMap;
use std::fmt;

use super::seq::SeqNum;

/// How many of the most recently delivered bytes are kept to compare
/// retransmissions against. A retransmission of bytes delivered longer ago
/// than this (or before a gap) is de-duplicated but cannot be checked for
/// conflicting content, so `overlap_conflict` is best effort for them.
/// Bytes still in the out-of-order buffer are always compared.
pub const COMPARE_WINDOW: usize = 64 * 1024;

/// What the reassembler hands to its consumer, always in stream order with
/// contiguous offsets (each event starts where the previous one ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// In-order bytes; `offset` is the stream offset (0 = first byte after the
    /// SYN), `frame` the capture frame they came from.
    Data {
        offset: u64,
        bytes: &'a [u8],
        frame: u64,
    },
    /// Bytes that were never captured: consumers must resync after it.
    Gap { offset: u64, len: u64 },
}

/// What a single [`Reassembler::push`] found out about its segment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PushOutcome {
    /// Bytes never seen before (delivered now or buffered). Saturates at
    /// `u32::MAX`.
    pub new_bytes: u32,
    /// Bytes already seen (delivered or buffered), including bytes that lie
    /// before the start of the stream. Saturates at `u32::MAX`.
    pub dup_bytes: u32,
    /// Segment starts beyond the next expected seq (a hole before it).
    pub out_of_order: bool,
    /// Some overlapping byte differs from the first copy (first copy wins).
    /// Only bytes still buffered or within [`COMPARE_WINDOW`] of the delivery
    /// point can be compared.
    pub overlap_conflict: bool,
    /// Buffering this would exceed the cap: a gap was forced.
    pub cap_hit: bool,
}

/// An out-of-order segment (or the part of one not already covered) waiting
/// for the hole before it to fill. Keeps its frame so delivered ranges can be
/// attributed.
struct Piece {
    frame: u64,
    bytes: Vec<u8>,
}

/// The last up to [`COMPARE_WINDOW`] delivered bytes, ending at the delivery
/// point. Grows on demand so short streams (the common case in a capture with
/// many connections) never pay for the full 64 KiB.
struct RecentWindow {
    /// Byte at stream offset `o` lives at `(o - base) % COMPARE_WINDOW`.
    ring: Vec<u8>,
    base: u64,
    /// Stream offset one past the newest stored byte.
    end: u64,
}

impl RecentWindow {
    fn new() -> Self {
        RecentWindow {
            ring: Vec::new(),
            base: 0,
            end: 0,
        }
    }

    /// Forget everything: after a gap the stored bytes are no longer adjacent
    /// to the delivery point, and keeping offsets simple beats keeping them.
    fn reset(&mut self, at: u64) {
        self.ring.clear();
        self.base = at;
        self.end = at;
    }

    /// First stream offset still stored.
    fn start(&self) -> u64 {
        self.end - self.ring.len() as u64
    }

    /// Append bytes delivered at `self.end`.
    fn record(&mut self, bytes: &[u8]) {
        let total = bytes.len() as u64;
        if bytes.len() >= COMPARE_WINDOW {
            // Only the tail can matter; restart the ring on it so positions
            // stay `offset - base` without wrap bookkeeping.
            let tail = &bytes[bytes.len() - COMPARE_WINDOW..];
            self.ring.clear();
            self.ring.extend_from_slice(tail);
            self.end += total;
            self.base = self.end - COMPARE_WINDOW as u64;
            return;
        }
        let mut rest = bytes;
        let mut pos = self.pos(self.end);
        while !rest.is_empty() {
            let n = rest.len().min(COMPARE_WINDOW - pos);
            let (chunk, tail) = rest.split_at(n);
            if self.ring.len() < COMPARE_WINDOW {
                // Still growing: never wrapped yet, so `pos == ring.len()`. Small
                // streams keep a small ring; once one passes 4 KiB the whole window is
                // reserved at once, instead of doubling its way up and copying each time.
                if self.ring.len() + n > 4096 && self.ring.capacity() < COMPARE_WINDOW {
                    self.ring.reserve_exact(COMPARE_WINDOW - self.ring.len());
                }
                self.ring.extend_from_slice(chunk);
            } else {
                self.ring[pos..pos + n].copy_from_slice(chunk);
            }
            rest = tail;
            pos = (pos + n) % COMPARE_WINDOW;
        }
        self.end += total;
    }

    fn pos(&self, offset: u64) -> usize {
        // The remainder is < COMPARE_WINDOW, so the cast cannot truncate.
        ((offset - self.base) % COMPARE_WINDOW as u64) as usize
    }

    /// Whether `bytes`, claimed to sit at stream offset `offset`, disagree with
    /// what was delivered there. Only the part still stored is compared.
    fn conflicts(&self, offset: u64, bytes: &[u8]) -> bool {
        let lo = offset.max(self.start());
        let hi = (offset + bytes.len() as u64).min(self.end);
        let mut o = lo;
        while o < hi {
            let pos = self.pos(o);
            let n = ((hi - o) as usize).min(COMPARE_WINDOW - pos);
            let src = (o - offset) as usize;
            if self.ring[pos..pos + n] != bytes[src..src + n] {
                return true;
            }
            o += n as u64;
        }
        false
    }
}

/// Reassembles one TCP direction. See the module docs for the offset model.
///
/// Memory: out-of-order data is capped at `cap_bytes` (plus per-piece map
/// overhead); the comparison window adds at most [`COMPARE_WINDOW`] bytes.
pub struct Reassembler {
    cap_bytes: usize,
    started: bool,
    /// Sequence number of stream offset 0; the next expected seq is derived
    /// from it so seq and offset can never drift apart.
    base_seq: SeqNum,
    /// Stream offset of the next byte to emit (bytes delivered + gap lengths).
    next_off: u64,
    /// Out-of-order pieces keyed by stream offset. Pieces never overlap each
    /// other (first copy wins, later copies only fill uncovered ranges) and,
    /// between calls, all start strictly after `next_off`.
    buf: BTreeMap<u64, Piece>,
    buffered: usize,
    recent: RecentWindow,
}

impl fmt::Debug for Reassembler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Summaries only: dumping the buffers would print up to megabytes.
        f.debug_struct("Reassembler")
            .field("cap_bytes", &self.cap_bytes)
            .field("started", &self.started)
            .field("base_seq", &self.base_seq)
            .field("next_off", &self.next_off)
            .field("pieces", &self.buf.len())
            .field("buffered", &self.buffered)
            .finish()
    }
}

/// Outcome counters are u32 by contract; a pathological multi-GiB slice
/// saturates rather than wraps.
fn sat_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Where a pushed segment lands, in stream offsets, after clipping to what is
/// representable.
struct Placed<'d> {
    /// Stream offset of `data[0]`; never negative (bytes before the stream
    /// start have been cut off and counted in `before_start`).
    start: u64,
    data: &'d [u8],
    before_start: u64,
}

impl Reassembler {
    /// A reassembler that buffers at most `cap_bytes` of out-of-order data.
    pub fn new(cap_bytes: usize) -> Self {
        Reassembler {
            cap_bytes,
            started: false,
            base_seq: SeqNum(0),
            next_off: 0,
            buf: BTreeMap::new(),
            buffered: 0,
            recent: RecentWindow::new(),
        }
    }

    /// Start of stream: `next` is the seq of the first data byte (ISN+1).
    /// Must be called before push; if push is called first, the first pushed
    /// seq becomes the start (mid-stream capture).
    ///
    /// Once started, further calls are ignored: a retransmitted SYN must not
    /// rewind a running stream. Use a fresh `Reassembler` for a new connection.
    pub fn start(&mut self, next: SeqNum) {
        if self.started {
            return;
        }
        self.started = true;
        self.base_seq = next;
        self.next_off = 0;
        self.recent.reset(0);
    }

    /// Whether `start` (or a first non-empty push / skip_to) fixed the stream
    /// origin.
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// Next expected in-order seq, `None` before the stream started.
    pub fn next_seq(&self) -> Option<SeqNum> {
        // Truncating the offset is exactly reduction mod 2^32.
        self.started
            .then(|| self.base_seq.add(self.next_off as u32))
    }

    /// Stream offset of the next byte = bytes delivered + gap lengths.
    pub fn delivered(&self) -> u64 {
        self.next_off
    }

    /// Out-of-order bytes currently held (never more than the cap).
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Feed one segment. Events for everything that became in-order are passed
    /// to `sink` before this returns. A zero-length push is a no-op (it does
    /// not even start the stream).
    pub fn push(
        &mut self,
        seq: SeqNum,
        data: &[u8],
        frame: u64,
        sink: &mut dyn FnMut(StreamEvent<'_>),
    ) -> PushOutcome {
        let mut out = PushOutcome::default();
        if data.is_empty() {
            return out;
        }
        if !self.started {
            self.start(seq);
        }
        let Placed {
            start,
            data,
            before_start,
        } = self.place(seq, data);
        let mut dup = before_start;
        let mut new = 0u64;
        out.out_of_order = start > self.next_off;

        // Out of order: buffer it, forcing gaps while that would break the cap.
        // Each round advances `next_off` strictly, and once the segment itself
        // is the earliest thing left it falls through to the in-order path,
        // which needs no buffering, so this terminates within the cap.
        while start > self.next_off {
            let (uncovered, d, conflict) = self.scan_buffered(start, data, None);
            if self.buffered.saturating_add(uncovered) <= self.cap_bytes {
                self.scan_buffered(start, data, Some(frame));
                out.overlap_conflict |= conflict;
                out.new_bytes = sat_u32(uncovered as u64);
                out.dup_bytes = sat_u32(dup + d);
                return out;
            }
            out.cap_hit = true;
            let target = match self.buf.first_key_value() {
                Some((&k, _)) if k < start => k,
                _ => start,
            };
            self.gap_to(target, sink);
            self.drain(sink);
        }

        let end = start + data.len() as u64;
        // Already delivered part (retransmission): compare what we still have.
        let old_end = end.min(self.next_off);
        if start < old_end {
            let old = &data[..(old_end - start) as usize];
            out.overlap_conflict |= self.recent.conflicts(start, old);
            dup += old.len() as u64;
        }

        // In-order part: straight from `data` (no copy) except where a
        // buffered piece already holds the bytes — those came first and win.
        while self.next_off < end {
            let here = self.next_off;
            let piece_here = matches!(self.buf.first_key_value(), Some((&k, _)) if k <= here);
            if piece_here {
                let Some((k, piece)) = self.buf.pop_first() else {
                    break;
                };
                self.buffered -= piece.bytes.len();
                let p_end = k + piece.bytes.len() as u64;
                if p_end <= here {
                    continue;
                }
                let p = &piece.bytes[(here - k) as usize..];
                let ov = &data[(here - start) as usize..];
                let n = p.len().min(ov.len());
                out.overlap_conflict |= p[..n] != ov[..n];
                dup += n as u64;
                self.emit(p, piece.frame, sink);
            } else {
                let lim = match self.buf.first_key_value() {
                    Some((&k, _)) => k.min(end),
                    None => end,
                };
                let chunk = &data[(here - start) as usize..(lim - start) as usize];
                new += chunk.len() as u64;
                self.emit(chunk, frame, sink);
            }
        }
        self.drain(sink);
        out.new_bytes = sat_u32(new);
        out.dup_bytes = sat_u32(dup);
        out
    }

    /// Declare everything before `upto` as lost (e.g. the peer ACKed it, so it
    /// was sent but not captured): emits Gap for the holes and releases
    /// buffered data in order up to and past `upto` where contiguous.
    ///
    /// Before the stream started this starts it at `upto`. An `upto` at or
    /// behind the next expected seq (in serial arithmetic) does nothing.
    pub fn skip_to(&mut self, upto: SeqNum, sink: &mut dyn FnMut(StreamEvent<'_>)) {
        let Some(next) = self.next_seq() else {
            self.start(upto);
            return;
        };
        let ahead = upto.diff(next);
        if ahead <= 0 {
            return;
        }
        let target = self.next_off.saturating_add(ahead.unsigned_abs());
        loop {
            self.drain(sink);
            if self.next_off >= target {
                break;
            }
            let hole_end = match self.buf.first_key_value() {
                Some((&k, _)) => k.min(target),
                None => target,
            };
            self.gap_to(hole_end, sink);
        }
    }

    /// End of stream / end of capture: release all buffered data in order,
    /// with Gap events for every hole. Bytes after the last buffered piece are
    /// unknown and produce nothing; use [`Reassembler::skip_to`] first if the
    /// end is known (e.g. from a FIN or ACK).
    pub fn flush(&mut self, sink: &mut dyn FnMut(StreamEvent<'_>)) {
        loop {
            self.drain(sink);
            let Some((&k, _)) = self.buf.first_key_value() else {
                break;
            };
            self.gap_to(k, sink);
        }
    }

    /// Map a segment to stream offsets relative to the next expected byte and
    /// clip it to `0..=u64::MAX`.
    fn place<'d>(&self, seq: SeqNum, data: &'d [u8]) -> Placed<'d> {
        let next = self.base_seq.add(self.next_off as u32);
        let start = i128::from(self.next_off) + i128::from(seq.diff(next));
        let (start, data, before_start) = if start < 0 {
            let cut = usize::try_from(start.unsigned_abs())
                .unwrap_or(usize::MAX)
                .min(data.len());
            (0u64, &data[cut..], cut as u64)
        } else {
            // start <= u64::MAX + 2^31 - 1; anything past u64::MAX is unreachable
            // in practice (2^33 pushes) but must not panic.
            match u64::try_from(start) {
                Ok(s) => (s, data, 0),
                Err(_) => (u64::MAX, &data[..0], 0),
            }
        };
        // Keep `start + len` representable.
        let room = usize::try_from(u64::MAX - start).unwrap_or(usize::MAX);
        let data = &data[..data.len().min(room)];
        Placed {
            start,
            data,
            before_start,
        }
    }

    /// Compare an out-of-order segment at `start` with the buffered pieces it
    /// overlaps. Returns (uncovered bytes, covered bytes, any covered byte
    /// differs). With `Some(frame)`, also buffers the uncovered ranges; the
    /// caller has already checked they fit under the cap.
    fn scan_buffered(
        &mut self,
        start: u64,
        data: &[u8],
        insert: Option<u64>,
    ) -> (usize, u64, bool) {
        let end = start + data.len() as u64;
        let mut cursor = start;
        let mut uncovered = 0usize;
        let mut covered = 0u64;
        let mut conflict = false;
        // Ranges to insert are collected first because the map is borrowed
        // while walking it. Bounded by the number of pieces overlapped + 1.
        let mut holes: Vec<(u64, u64)> = Vec::new();
        // The piece starting before `start` may reach into it.
        let first_key = self
            .buf
            .range(..start)
            .next_back()
            .map_or(start, |(&k, _)| k);
        for (&k, piece) in self.buf.range(first_key..end) {
            let p_end = k + piece.bytes.len() as u64;
            if p_end <= cursor {
                continue;
            }
            if k > cursor {
                uncovered += (k - cursor) as usize;
                holes.push((cursor, k));
            }
            let lo = k.max(cursor);
            let hi = p_end.min(end);
            let mine = &data[(lo - start) as usize..(hi - start) as usize];
            let theirs = &piece.bytes[(lo - k) as usize..(hi - k) as usize];
            conflict |= mine != theirs;
            covered += hi - lo;
            cursor = hi;
        }
        if cursor < end {
            uncovered += (end - cursor) as usize;
            holes.push((cursor, end));
        }
        if let Some(frame) = insert {
            for (lo, hi) in holes {
                let bytes = data[(lo - start) as usize..(hi - start) as usize].to_vec();
                self.buffered += bytes.len();
                self.buf.insert(lo, Piece { frame, bytes });
            }
        }
        (uncovered, covered, conflict)
    }

    /// Deliver `bytes` at the delivery point.
    fn emit(&mut self, bytes: &[u8], frame: u64, sink: &mut dyn FnMut(StreamEvent<'_>)) {
        if bytes.is_empty() {
            return;
        }
        sink(StreamEvent::Data {
            offset: self.next_off,
            bytes,
            frame,
        });
        self.recent.record(bytes);
        self.next_off += bytes.len() as u64;
    }

    /// Declare `next_off..to` lost.
    fn gap_to(&mut self, to: u64, sink: &mut dyn FnMut(StreamEvent<'_>)) {
        if to <= self.next_off {
            return;
        }
        sink(StreamEvent::Gap {
            offset: self.next_off,
            len: to - self.next_off,
        });
        self.next_off = to;
        self.recent.reset(to);
    }

    /// Release buffered pieces that have become contiguous with the delivery
    /// point.
    fn drain(&mut self, sink: &mut dyn FnMut(StreamEvent<'_>)) {
        while matches!(self.buf.first_key_value(), Some((&k, _)) if k <= self.next_off) {
            let Some((k, piece)) = self.buf.pop_first() else {
                break;
            };
            self.buffered -= piece.bytes.len();
            let p_end = k + piece.bytes.len() as u64;
            if p_end <= self.next_off {
                continue;
            }
            let skip = (self.next_off - k) as usize;
            self.emit(&piece.bytes[skip..], piece.frame, sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Owned copy of a `StreamEvent`, so tests can keep events after the
    /// borrowed slices are gone.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Ev {
        Data {
            offset: u64,
            bytes: Vec<u8>,
            frame: u64,
        },
        Gap {
            offset: u64,
            len: u64,
        },
    }

    fn d(offset: u64, bytes: &[u8], frame: u64) -> Ev {
        Ev::Data {
            offset,
            bytes: bytes.to_vec(),
            frame,
        }
    }

    fn g(offset: u64, len: u64) -> Ev {
        Ev::Gap { offset, len }
    }

    fn rec(evs: &mut Vec<Ev>) -> impl FnMut(StreamEvent<'_>) + '_ {
        move |e| {
            evs.push(match e {
                StreamEvent::Data {
                    offset,
                    bytes,
                    frame,
                } => d(offset, bytes, frame),
                StreamEvent::Gap { offset, len } => g(offset, len),
            })
        }
    }

    /// Pushes into `r`, appending events to `evs`.
    fn push(
        r: &mut Reassembler,
        seq: SeqNum,
        data: &[u8],
        frame: u64,
        evs: &mut Vec<Ev>,
    ) -> PushOutcome {
        r.push(seq, data, frame, &mut rec(evs))
    }

    /// Events must tile the stream from offset 0 with no empty events.
    fn assert_contiguous(evs: &[Ev], delivered: u64) {
        let mut at = 0u64;
        for e in evs {
            match e {
                Ev::Data { offset, bytes, .. } => {
                    assert_eq!(*offset, at, "{evs:?}");
                    assert!(!bytes.is_empty());
                    at += bytes.len() as u64;
                }
                Ev::Gap { offset, len } => {
                    assert_eq!(*offset, at, "{evs:?}");
                    assert!(*len > 0);
                    at += len;
                }
            }
        }
        assert_eq!(at, delivered);
    }

    fn data_concat(evs: &[Ev]) -> Vec<u8> {
        let mut v = Vec::new();
        for e in evs {
            if let Ev::Data { bytes, .. } = e {
                v.extend_from_slice(bytes);
            }
        }
        v
    }

    const ISN1: SeqNum = SeqNum(1000);

    fn started(cap: usize) -> Reassembler {
        let mut r = Reassembler::new(cap);
        r.start(ISN1);
        r
    }

    #[test]
    fn in_order_is_delivered_without_copying() {
        let mut r = started(1 << 20);
        assert!(r.is_started());
        assert_eq!(r.next_seq(), Some(ISN1));
        let a = b"GET / HTTP/1.1\r\n";
        let mut seen = 0;
        let out = r.push(ISN1, a, 7, &mut |e| {
            let StreamEvent::Data {
                offset,
                bytes,
                frame,
            } = e
            else {
                panic!("unexpected {e:?}");
            };
            assert_eq!((offset, frame), (0, 7));
            // Same memory as the input slice: the hot path does not copy.
            assert_eq!(bytes.as_ptr(), a.as_ptr());
            assert_eq!(bytes.len(), a.len());
            seen += 1;
        });
        assert_eq!(seen, 1);
        assert_eq!(
            out,
            PushOutcome {
                new_bytes: a.len() as u32,
                ..PushOutcome::default()
            }
        );
        let mut evs = Vec::new();
        push(
            &mut r,
            ISN1.add(a.len() as u32),
            b"Host: x\r\n",
            8,
            &mut evs,
        );
        assert_eq!(evs, vec![d(a.len() as u64, b"Host: x\r\n", 8)]);
        assert_eq!(r.delivered(), (a.len() + 9) as u64);
        assert_eq!(r.next_seq(), Some(ISN1.add(a.len() as u32 + 9)));
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn out_of_order_is_buffered_until_the_hole_fills() {
        let mut r = started(1 << 20);
        let mut evs = Vec::new();
        let o = push(&mut r, ISN1.add(6), b"ghi", 3, &mut evs);
        assert!(o.out_of_order);
        assert_eq!(o.new_bytes, 3);
        let o = push(&mut r, ISN1.add(3), b"def", 2, &mut evs);
        assert!(o.out_of_order);
        assert!(evs.is_empty());
        assert_eq!(r.buffered_bytes(), 6);
        assert_eq!(r.delivered(), 0);
        let o = push(&mut r, ISN1, b"abc", 1, &mut evs);
        assert!(!o.out_of_order);
        assert_eq!(o.new_bytes, 3);
        assert_eq!(evs, vec![d(0, b"abc", 1), d(3, b"def", 2), d(6, b"ghi", 3)]);
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(r.delivered(), 9);
    }

    #[test]
    fn retransmissions_are_deduplicated() {
        let mut r = started(1 << 20);
        let mut evs = Vec::new();
        push(&mut r, ISN1, b"abc", 1, &mut evs);
        push(&mut r, ISN1.add(3), b"def", 2, &mut evs);
        // Exact retransmission of old data: nothing new, no events.
        let o = push(&mut r, ISN1, b"abc", 3, &mut evs);
        assert_eq!(
            (o.new_bytes, o.dup_bytes, o.overlap_conflict),
            (0, 3, false)
        );
        assert_eq!(evs.len(), 2);
        // Superset retransmission: only the tail is new.
        let o = push(&mut r, ISN1.add(1), b"bcdefgh", 4, &mut evs);
        assert_eq!((o.new_bytes, o.dup_bytes), (2, 5));
        assert_eq!(evs[2], d(6, b"gh", 4));
        // Retransmission of a buffered segment is a duplicate too.
        let o = push(&mut r, ISN1.add(10), b"kl", 5, &mut evs);
        assert_eq!(o.new_bytes, 2);
        let o = push(&mut r, ISN1.add(10), b"kl", 6, &mut evs);
        assert_eq!((o.new_bytes, o.dup_bytes, o.out_of_order), (0, 2, true));
        assert_eq!(r.buffered_bytes(), 2);
        push(&mut r, ISN1.add(8), b"ij", 7, &mut evs);
        assert_eq!(&evs[3..], &[d(8, b"ij", 7), d(10, b"kl", 5)]);
        assert_contiguous(&evs, r.delivered());
    }

    #[test]
    fn partial_overlaps_keep_the_first_copy_and_its_frame() {
        let mut r = started(1 << 20);
        let mut evs = Vec::new();
        push(&mut r, ISN1.add(5), b"fghij", 1, &mut evs); // 5..10
        let o = push(&mut r, ISN1.add(3), b"defgh", 2, &mut evs); // 3..8
        assert_eq!(
            (o.new_bytes, o.dup_bytes, o.overlap_conflict),
            (2, 3, false)
        );
        let o = push(&mut r, ISN1.add(8), b"ijklm", 3, &mut evs); // 8..13
        assert_eq!((o.new_bytes, o.dup_bytes), (3, 2));
        assert_eq!(r.buffered_bytes(), 10);
        // In-order segment that overlaps the buffered range 3..13.
        let o = push(&mut r, ISN1, b"abcdef", 4, &mut evs); // 0..6
        assert_eq!(
            (o.new_bytes, o.dup_bytes, o.overlap_conflict),
            (3, 3, false)
        );
        assert_eq!(
            evs,
            vec![
                d(0, b"abc", 4),
                d(3, b"de", 2),
                d(5, b"fghij", 1),
                d(10, b"klm", 3),
            ]
        );
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn conflicting_overlaps_are_flagged_and_first_copy_wins() {
        let mut r = started(1 << 20);
        let mut evs = Vec::new();
        // Against a buffered piece.
        push(&mut r, ISN1.add(4), b"efgh", 1, &mut evs);
        let o = push(&mut r, ISN1.add(2), b"cdXf", 2, &mut evs);
        assert!(o.overlap_conflict);
        assert_eq!((o.new_bytes, o.dup_bytes), (2, 2));
        // In-order segment overlapping a buffered piece.
        let o = push(&mut r, ISN1, b"abcdeZ", 3, &mut evs);
        assert!(o.overlap_conflict);
        assert_eq!(data_concat(&evs), b"abcdefgh");
        // Against already delivered bytes (still in the window).
        let o = push(&mut r, ISN1.add(6), b"gQij", 4, &mut evs);
        assert!(o.overlap_conflict);
        assert_eq!((o.new_bytes, o.dup_bytes), (2, 2));
        assert_eq!(data_concat(&evs), b"abcdefghij");
        let o = push(&mut r, ISN1.add(6), b"ghij", 5, &mut evs);
        assert!(!o.overlap_conflict);
        assert_contiguous(&evs, r.delivered());
    }

    #[test]
    fn conflicts_are_only_detected_inside_the_window() {
        let mut r = started(1 << 20);
        let mut evs = Vec::new();
        let stream: Vec<u8> = (0..COMPARE_WINDOW + 5000)
            .map(|i| (i % 251) as u8)
            .collect();
        // Deliver in chunks smaller than the window so the ring wraps.
        for (i, c) in stream.chunks(3000).enumerate() {
            push(&mut r, ISN1.add((i * 3000) as u32), c, i as u64, &mut evs);
        }
        assert_eq!(data_concat(&evs), stream);
        // Byte 0 has left the window: deduplicated, but not comparable.
        let o = push(&mut r, ISN1, &[stream[0] ^ 0xFF], 99, &mut evs);
        assert_eq!((o.dup_bytes, o.overlap_conflict), (1, false));
        // Bytes near the delivery point are still comparable, across the
        // ring's wrap point too.
        let last = stream.len() - 1;
        let o = push(
            &mut r,
            ISN1.add(last as u32),
            &[stream[last] ^ 1],
            99,
            &mut evs,
        );
        assert!(o.overlap_conflict);
        let lo = stream.len() - COMPARE_WINDOW;
        let o = push(&mut r, ISN1.add(lo as u32), &stream[lo..], 99, &mut evs);
        assert!(!o.overlap_conflict);
        let mut bad = stream[lo..].to_vec();
        bad[0] ^= 1;
        let o = push(&mut r, ISN1.add(lo as u32), &bad, 99, &mut evs);
        assert!(o.overlap_conflict);
        // One segment larger than the window keeps only its tail.
        let big: Vec<u8> = (0..COMPARE_WINDOW + 10).map(|i| (i % 7) as u8).collect();
        let at = stream.len();
        push(&mut r, ISN1.add(at as u32), &big, 100, &mut evs);
        let o = push(
            &mut r,
            ISN1.add((at + 5) as u32),
            &[big[5] ^ 1],
            101,
            &mut evs,
        );
        assert!(!o.overlap_conflict, "byte 5 is outside the window");
        let o = push(
            &mut r,
            ISN1.add((at + 20) as u32),
            &[big[20] ^ 1],
            101,
            &mut evs,
        );
        assert!(o.overlap_conflict);
        assert_contiguous(&evs, r.delivered());
    }

    #[test]
    fn wraps_around_2_pow_32() {
        let isn = SeqNum(0xFFFF_FFF0);
        let mut r = Reassembler::new(1 << 20);
        r.start(isn.add(1));
        let stream: Vec<u8> = (0u8..64).collect();
        let seq = |off: usize| isn.add(1).add(off as u32);
        let mut evs = Vec::new();
        // Out of order across the wrap: 20..40 straddles seq 0.
        push(&mut r, seq(20), &stream[20..40], 2, &mut evs);
        push(&mut r, seq(40), &stream[40..64], 3, &mut evs);
        assert!(evs.is_empty());
        push(&mut r, seq(0), &stream[0..20], 1, &mut evs);
        assert_eq!(
            evs,
            vec![
                d(0, &stream[0..20], 1),
                d(20, &stream[20..40], 2),
                d(40, &stream[40..64], 3),
            ]
        );
        assert_eq!(r.next_seq(), Some(SeqNum(0xFFFF_FFF1).add(64)));
        assert_eq!(r.next_seq(), Some(SeqNum(0x31)));
        // Old retransmission from before the wrap is recognised as old.
        let o = push(&mut r, seq(2), &stream[2..5], 4, &mut evs);
        assert_eq!((o.dup_bytes, o.new_bytes, o.out_of_order), (3, 0, false));
        assert_eq!(evs.len(), 3);
    }

    #[test]
    fn offsets_keep_counting_past_4_gib() {
        let mut r = started(1 << 20);
        let mut evs = Vec::new();
        // skip_to moves at most 2^31 - 1 per call (serial arithmetic), so get
        // to just below offset 2^32 in three hops.
        for step in [1u32 << 30, (1 << 31) - 1, (1 << 30) - 3] {
            let next = r.next_seq().unwrap_or_default();
            r.skip_to(next.add(step), &mut rec(&mut evs));
        }
        assert_eq!(
            evs,
            vec![
                g(0, 1 << 30),
                g(1 << 30, (1 << 31) - 1),
                g((3 << 30) - 1, (1 << 30) - 3)
            ]
        );
        assert_eq!(r.delivered(), (1 << 32) - 4);
        evs.clear();
        let next = r.next_seq().unwrap_or_default();
        push(&mut r, next.add(4), b"efgh", 2, &mut evs);
        push(&mut r, next, b"abcd", 1, &mut evs);
        assert_eq!(
            evs,
            vec![d((1 << 32) - 4, b"abcd", 1), d(1 << 32, b"efgh", 2)]
        );
        assert_eq!(r.delivered(), (1 << 32) + 4);
        // The seq of offset 2^32 + 4 is the start seq + 4 again.
        assert_eq!(r.next_seq(), Some(ISN1.add(4)));
        let o = push(&mut r, ISN1.add(2), b"gh", 3, &mut evs);
        assert_eq!(o.dup_bytes, 2);
        assert_eq!(evs.len(), 2);
    }

    #[test]
    fn skip_to_emits_gaps_and_releases_contiguous_data() {
        let mut r = started(1 << 20);
        let mut evs = Vec::new();
        push(&mut r, ISN1, b"abc", 1, &mut evs);
        push(&mut r, ISN1.add(8), b"ijkl", 2, &mut evs); // 8..12
        push(&mut r, ISN1.add(20), b"uv", 3, &mut evs); // 20..22
        r.skip_to(ISN1.add(10), &mut rec(&mut evs));
        assert_eq!(evs[1..], [g(3, 5), d(8, b"ijkl", 2)]);
        assert_eq!(r.delivered(), 12);
        assert_eq!(r.buffered_bytes(), 2);
        // Behind the delivery point: nothing.
        r.skip_to(ISN1.add(5), &mut rec(&mut evs));
        assert_eq!(evs.len(), 3);
        // Past the last piece.
        r.skip_to(ISN1.add(30), &mut rec(&mut evs));
        assert_eq!(evs[3..], [g(12, 8), d(20, b"uv", 3), g(22, 8)]);
        assert_eq!(r.delivered(), 30);
        assert_eq!(r.buffered_bytes(), 0);
        assert_contiguous(&evs, r.delivered());
        // Data after the skipped region arrives normally.
        push(&mut r, ISN1.add(30), b"x", 4, &mut evs);
        assert_eq!(evs[6], d(30, b"x", 4));
    }

    #[test]
    fn skip_to_before_start_starts_the_stream() {
        let mut r = Reassembler::new(100);
        let mut evs = Vec::new();
        r.skip_to(SeqNum(50), &mut rec(&mut evs));
        assert!(evs.is_empty());
        assert_eq!(r.next_seq(), Some(SeqNum(50)));
        assert_eq!(r.delivered(), 0);
    }

    #[test]
    fn flush_releases_everything_with_gaps_for_holes() {
        let mut r = started(1 << 20);
        let mut evs = Vec::new();
        push(&mut r, ISN1, b"abc", 1, &mut evs);
        push(&mut r, ISN1.add(10), b"kl", 3, &mut evs);
        push(&mut r, ISN1.add(5), b"fg", 2, &mut evs);
        r.flush(&mut rec(&mut evs));
        assert_eq!(
            evs,
            vec![
                d(0, b"abc", 1),
                g(3, 2),
                d(5, b"fg", 2),
                g(7, 3),
                d(10, b"kl", 3),
            ]
        );
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(r.delivered(), 12);
        // Flushing again, or flushing an unstarted reassembler, does nothing.
        r.flush(&mut rec(&mut evs));
        Reassembler::new(0).flush(&mut rec(&mut evs));
        assert_eq!(evs.len(), 5);
    }

    #[test]
    fn cap_forces_a_gap_instead_of_growing() {
        let mut r = started(4);
        let mut evs = Vec::new();
        let o = push(&mut r, ISN1.add(10), b"klm", 1, &mut evs);
        assert!(!o.cap_hit);
        assert_eq!(r.buffered_bytes(), 3);
        let o = push(&mut r, ISN1.add(20), b"uvw", 2, &mut evs);
        assert!(o.cap_hit && o.out_of_order);
        assert_eq!(o.new_bytes, 3);
        assert_eq!(evs, vec![g(0, 10), d(10, b"klm", 1)]);
        // The new segment still is out of order and now fits.
        assert_eq!(r.buffered_bytes(), 3);
        assert_eq!(r.delivered(), 13);
        // A single segment larger than the cap is delivered after a gap.
        let o = push(&mut r, ISN1.add(30), b"0123456789", 3, &mut evs);
        assert!(o.cap_hit);
        assert_eq!(
            evs[2..],
            [
                g(13, 7),
                d(20, b"uvw", 2),
                g(23, 7),
                d(30, b"0123456789", 3)
            ]
        );
        assert_eq!(r.buffered_bytes(), 0);
        // Filling the hole later just counts duplicates.
        let o = push(&mut r, ISN1, b"abc", 4, &mut evs);
        assert_eq!((o.dup_bytes, o.new_bytes), (3, 0));
        assert_eq!(evs.len(), 6);
        assert_contiguous(&evs, r.delivered());
    }

    #[test]
    fn cap_zero_never_buffers() {
        let mut r = started(0);
        let mut evs = Vec::new();
        let o = push(&mut r, ISN1.add(5), b"fg", 1, &mut evs);
        assert!(o.cap_hit);
        assert_eq!(evs, vec![g(0, 5), d(5, b"fg", 1)]);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn first_push_starts_a_mid_stream_capture() {
        let mut r = Reassembler::new(1 << 20);
        let mut evs = Vec::new();
        assert!(!r.is_started());
        assert_eq!(r.next_seq(), None);
        // Zero-length push is a no-op, it does not even start the stream.
        assert_eq!(
            push(&mut r, SeqNum(7), b"", 1, &mut evs),
            PushOutcome::default()
        );
        assert!(!r.is_started());
        push(&mut r, SeqNum(500), b"mid", 2, &mut evs);
        assert_eq!(evs, vec![d(0, b"mid", 2)]);
        // Bytes before the first captured one cannot be delivered any more.
        let o = push(&mut r, SeqNum(498), b"xxmidn", 3, &mut evs);
        assert_eq!((o.dup_bytes, o.new_bytes), (5, 1));
        assert_eq!(evs[1], d(3, b"n", 3));
        // A later start() must not rewind the running stream.
        r.start(SeqNum(1));
        assert_eq!(r.next_seq(), Some(SeqNum(504)));
    }

    #[test]
    fn far_away_segments_are_treated_as_old() {
        let mut r = started(1 << 20);
        let mut evs = Vec::new();
        push(&mut r, ISN1, b"abc", 1, &mut evs);
        let next = ISN1.add(3);
        // Exactly 2^31 ahead is read as 2^31 behind: old, no events.
        let o = push(&mut r, next.add(1 << 31), b"zz", 2, &mut evs);
        assert_eq!((o.dup_bytes, o.new_bytes, o.out_of_order), (2, 0, false));
        // 2^31 - 1 ahead is ahead.
        let o = push(&mut r, next.add((1 << 31) - 1), b"zz", 3, &mut evs);
        assert!(o.out_of_order);
        assert_eq!(r.buffered_bytes(), 2);
        assert_eq!(evs.len(), 1);
    }

    #[test]
    fn adversarial_inputs_do_not_panic() {
        let seqs = [0u32, 1, 0x7FFF_FFFF, 0x8000_0000, 0x8000_0001, u32::MAX];
        for &s0 in &seqs {
            let mut r = Reassembler::new(16);
            let mut evs = Vec::new();
            r.start(SeqNum(s0));
            for &s in &seqs {
                push(&mut r, SeqNum(s), &[1; 40], 1, &mut evs);
                push(&mut r, SeqNum(s).add(3), &[1; 5], 2, &mut evs);
                r.skip_to(SeqNum(s), &mut rec(&mut evs));
                assert!(r.buffered_bytes() <= 16);
            }
            r.flush(&mut rec(&mut evs));
            assert_contiguous(&evs, r.delivered());
        }
    }

    // ---- property tests ----

    /// Small deterministic PRNG so one proptest-chosen seed drives cutting,
    /// shuffling and duplicating (and shrinks as a single value).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*; the `| 1` keeps a zero seed from sticking.
            let mut x = self.0 | 1;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        /// Uniform-ish in `lo..hi` (requires `lo < hi`).
        fn range(&mut self, lo: usize, hi: usize) -> usize {
            lo + (self.next() % (hi - lo) as u64) as usize
        }

        fn shuffle<T>(&mut self, v: &mut [T]) {
            for i in (1..v.len()).rev() {
                let j = self.range(0, i + 1);
                v.swap(i, j);
            }
        }
    }

    /// A segment to push: stream range plus its (possibly altered) bytes.
    #[derive(Debug, Clone)]
    struct Seg {
        lo: usize,
        bytes: Vec<u8>,
    }

    /// Cut `stream` into consecutive segments of 1..=max_seg bytes.
    fn cut(stream: &[u8], rng: &mut Rng, max_seg: usize) -> Vec<Seg> {
        let mut segs = Vec::new();
        let mut lo = 0;
        while lo < stream.len() {
            let hi = (lo + rng.range(1, max_seg + 1)).min(stream.len());
            segs.push(Seg {
                lo,
                bytes: stream[lo..hi].to_vec(),
            });
            lo = hi;
        }
        segs
    }

    /// A random non-empty sub-range of `lo..hi` with identical bytes.
    fn overlap(stream: &[u8], rng: &mut Rng, lo: usize, hi: usize) -> Seg {
        let a = rng.range(lo, hi);
        let b = rng.range(a + 1, hi + 1);
        Seg {
            lo: a,
            bytes: stream[a..b].to_vec(),
        }
    }

    struct Run {
        evs: Vec<Ev>,
        outcomes: Vec<PushOutcome>,
        delivered: u64,
        buffered: usize,
    }

    /// Push `segs` in order (frame = index) after starting at `isn + 1`.
    fn run(isn: u32, segs: &[Seg]) -> Run {
        let first = SeqNum(isn).add(1);
        let mut r = Reassembler::new(1 << 20);
        r.start(first);
        let mut evs = Vec::new();
        let outcomes = segs
            .iter()
            .enumerate()
            .map(|(i, s)| push(&mut r, first.add(s.lo as u32), &s.bytes, i as u64, &mut evs))
            .collect();
        let (delivered, buffered) = (r.delivered(), r.buffered_bytes());
        Run {
            evs,
            outcomes,
            delivered,
            buffered,
        }
    }

    /// Every delivered byte must be credited to the first pushed segment that
    /// covered it (first copy wins, frames follow the bytes).
    fn assert_first_frames(segs: &[Seg], evs: &[Ev], len: usize) {
        let mut first = vec![None; len];
        for (i, s) in segs.iter().enumerate() {
            for slot in &mut first[s.lo..s.lo + s.bytes.len()] {
                slot.get_or_insert(i as u64);
            }
        }
        for e in evs {
            if let Ev::Data {
                offset,
                bytes,
                frame,
            } = e
            {
                let o = *offset as usize;
                for f in &first[o..o + bytes.len()] {
                    assert_eq!(*f, Some(*frame), "{e:?}");
                }
            }
        }
    }

    fn isn_strategy() -> impl Strategy<Value = u32> {
        prop_oneof![any::<u32>(), (u32::MAX - 6000)..=u32::MAX]
    }

    fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(any::<u8>(), 0..5000)
    }

    proptest! {
        #[test]
        fn shuffled_duplicated_overlapping_segments_rebuild_the_stream(
            stream in stream_strategy(),
            isn in isn_strategy(),
            seed in any::<u64>(),
            max_seg in 1usize..600,
            n_dup in 0usize..10,
            n_ovl in 0usize..10,
        ) {
            let mut rng = Rng(seed);
            let mut segs = cut(&stream, &mut rng, max_seg);
            if !segs.is_empty() {
                for _ in 0..n_dup {
                    let i = rng.range(0, segs.len());
                    segs.push(segs[i].clone());
                }
                for _ in 0..n_ovl {
                    segs.push(overlap(&stream, &mut rng, 0, stream.len()));
                }
            }
            rng.shuffle(&mut segs);
            let r = run(isn, &segs);

            prop_assert!(r.evs.iter().all(|e| matches!(e, Ev::Data { .. })), "gap: {:?}", r.evs);
            prop_assert!(r.outcomes.iter().all(|o| !o.overlap_conflict && !o.cap_hit));
            prop_assert_eq!(data_concat(&r.evs), stream.clone());
            assert_contiguous(&r.evs, r.delivered);
            prop_assert_eq!(r.delivered, stream.len() as u64);
            prop_assert_eq!(r.buffered, 0);
            let new: u64 = r.outcomes.iter().map(|o| u64::from(o.new_bytes)).sum();
            prop_assert_eq!(new, stream.len() as u64);
            for (o, s) in r.outcomes.iter().zip(&segs) {
                prop_assert_eq!((o.new_bytes + o.dup_bytes) as usize, s.bytes.len());
            }
            assert_first_frames(&segs, &r.evs, stream.len());
        }

        #[test]
        fn a_conflicting_late_copy_is_flagged_and_loses(
            stream in prop::collection::vec(any::<u8>(), 1..5000),
            isn in isn_strategy(),
            seed in any::<u64>(),
            max_seg in 1usize..600,
            n_ovl in 0usize..10,
            flip in 1u8..=255,
        ) {
            let mut rng = Rng(seed);
            let mut segs = cut(&stream, &mut rng, max_seg);
            for _ in 0..n_ovl {
                segs.push(overlap(&stream, &mut rng, 0, stream.len()));
            }
            rng.shuffle(&mut segs);
            // The bad copy changes byte `p` and is pushed after the first
            // correct copy of `p`. The stream is shorter than COMPARE_WINDOW
            // and has no gaps, so the original is still comparable then.
            let mut bad = overlap(&stream, &mut rng, 0, stream.len());
            let p = rng.range(bad.lo, bad.lo + bad.bytes.len());
            bad.bytes[p - bad.lo] ^= flip;
            let first_cover = segs
                .iter()
                .position(|s| s.lo <= p && p < s.lo + s.bytes.len())
                .unwrap_or(0);
            let at = rng.range(first_cover + 1, segs.len() + 1);
            segs.insert(at, bad);
            let r = run(isn, &segs);

            for (i, o) in r.outcomes.iter().enumerate() {
                prop_assert_eq!(o.overlap_conflict, i == at, "push {}: {:?}", i, o);
            }
            prop_assert_eq!(data_concat(&r.evs), stream.clone());
            assert_contiguous(&r.evs, r.delivered);
            prop_assert_eq!(r.buffered, 0);
            assert_first_frames(&segs, &r.evs, stream.len());
        }

        #[test]
        fn a_dropped_segment_becomes_exactly_one_gap(
            stream in prop::collection::vec(any::<u8>(), 1..5000),
            isn in isn_strategy(),
            seed in any::<u64>(),
            max_seg in 1usize..600,
            n_dup in 0usize..10,
            n_ovl in 0usize..10,
        ) {
            let mut rng = Rng(seed);
            let mut segs = cut(&stream, &mut rng, max_seg);
            let dropped = segs.remove(rng.range(0, segs.len()));
            let (ds, de) = (dropped.lo, dropped.lo + dropped.bytes.len());
            if !segs.is_empty() {
                for _ in 0..n_dup {
                    let i = rng.range(0, segs.len());
                    segs.push(segs[i].clone());
                }
            }
            // Identical overlaps that stay clear of the dropped range.
            for _ in 0..n_ovl {
                if ds > 0 && (de == stream.len() || rng.next().is_multiple_of(2)) {
                    segs.push(overlap(&stream, &mut rng, 0, ds));
                } else if de < stream.len() {
                    segs.push(overlap(&stream, &mut rng, de, stream.len()));
                }
            }
            rng.shuffle(&mut segs);

            let first = SeqNum(isn).add(1);
            let mut r = Reassembler::new(1 << 20);
            r.start(first);
            let mut evs = Vec::new();
            for (i, s) in segs.iter().enumerate() {
                let o = push(&mut r, first.add(s.lo as u32), &s.bytes, i as u64, &mut evs);
                prop_assert!(!o.overlap_conflict);
            }
            r.flush(&mut rec(&mut evs));
            // If the last segment was dropped, flush cannot know it existed;
            // the caller would learn the end from FIN/ACK and skip to it.
            r.skip_to(first.add(stream.len() as u32), &mut rec(&mut evs));

            assert_contiguous(&evs, r.delivered());
            let gaps: Vec<Ev> = evs
                .iter()
                .filter(|e| matches!(e, Ev::Gap { .. }))
                .cloned()
                .collect();
            prop_assert_eq!(gaps, vec![g(ds as u64, (de - ds) as u64)]);
            let mut expect = stream[..ds].to_vec();
            expect.extend_from_slice(&stream[de..]);
            prop_assert_eq!(data_concat(&evs), expect);
            prop_assert_eq!(r.buffered_bytes(), 0);
            assert_first_frames(&segs, &evs, stream.len());
        }

        /// Arbitrary operations never panic, never exceed the cap, and the
        /// event stream always tiles the offsets handed out.
        #[test]
        fn random_operations_keep_invariants(
            cap in 0usize..2000,
            start in proptest::option::of(any::<u32>()),
            ops in prop::collection::vec(
                (0u8..10, prop_oneof![any::<u32>(), 0u32..3000, (u32::MAX - 3000)..=u32::MAX], 0usize..700),
                0..60,
            ),
        ) {
            let mut r = Reassembler::new(cap);
            if let Some(s) = start {
                r.start(SeqNum(s));
            }
            let mut evs = Vec::new();
            for (i, (kind, seq, len)) in ops.into_iter().enumerate() {
                let base = if seq > 10_000 && seq < u32::MAX - 10_000 {
                    SeqNum(seq)
                } else {
                    r.next_seq().unwrap_or_default().add(seq)
                };
                match kind {
                    0 => r.skip_to(base, &mut rec(&mut evs)),
                    1 => r.flush(&mut rec(&mut evs)),
                    _ => {
                        let data = vec![(i % 256) as u8; len];
                        let o = push(&mut r, base, &data, i as u64, &mut evs);
                        prop_assert_eq!((o.new_bytes + o.dup_bytes) as usize, len);
                    }
                }
                prop_assert!(r.buffered_bytes() <= cap);
                assert_contiguous(&evs, r.delivered());
            }
        }
    }
}
