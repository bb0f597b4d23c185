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

use std::fmt;

use super::seq::SeqNum;

mod window;
use window::{Piece, Pieces, RecentWindow};

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
    buf: Pieces,
    buffered: usize,
    /// The bytes delivered last, made at the first delivered byte (a connection that
    /// carries none, as in a SYN flood, keeps 8 bytes instead of 40: docs/memory.md).
    /// Its end is always `next_off`.
    recent: Option<Box<RecentWindow>>,
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
            buf: Pieces::default(),
            buffered: 0,
            recent: None,
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
        if let Some(r) = &mut self.recent {
            r.reset(0);
        }
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
            out.overlap_conflict |= self
                .recent
                .as_ref()
                .is_some_and(|r| r.conflicts(start, old));
            dup += old.len() as u64;
        }

        let (fresh, again) = self.deliver(start, data, frame, &mut out.overlap_conflict, sink);
        new += fresh;
        dup += again;
        self.drain(sink);
        out.new_bytes = sat_u32(new);
        out.dup_bytes = sat_u32(dup);
        out
    }

    /// The in-order part of a segment at stream offset `start`: straight from `data` (no
    /// copy) except where a buffered piece already holds the bytes — those came first and
    /// win. Returns the new bytes and the duplicated ones.
    fn deliver(
        &mut self,
        start: u64,
        data: &[u8],
        frame: u64,
        conflict: &mut bool,
        sink: &mut dyn FnMut(StreamEvent<'_>),
    ) -> (u64, u64) {
        let end = start + data.len() as u64;
        let (mut new, mut dup) = (0u64, 0u64);
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
                *conflict |= p[..n] != ov[..n];
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
        (new, dup)
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
        let at = self.next_off;
        self.recent
            .get_or_insert_with(|| {
                let mut r = RecentWindow::new();
                r.reset(at);
                Box::new(r)
            })
            .record(bytes);
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
        if let Some(r) = &mut self.recent {
            r.reset(to);
        }
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
mod tests;
