//! The two stores of one direction's reassembler: the out-of-order pieces waiting for a
//! hole to fill ([`Pieces`]) and the last delivered bytes kept to compare
//! retransmissions against ([`RecentWindow`]).

use std::collections::BTreeMap;

use super::COMPARE_WINDOW;

/// An out-of-order segment (or the part of one not already covered) waiting
/// for the hole before it to fill. Keeps its frame so delivered ranges can be
/// attributed.
pub(super) struct Piece {
    pub(super) frame: u64,
    pub(super) bytes: Vec<u8>,
}

/// The out-of-order pieces: boxed while there are any, so that a direction without
/// them (most, and every one of a SYN flood's connections) keeps 8 bytes for them
/// instead of a `BTreeMap`'s 24 (docs/memory.md).
#[derive(Default)]
#[expect(
    clippy::box_collection,
    reason = "the box is the point: 8 bytes inline while empty, not 24"
)]
pub(super) struct Pieces(Option<Box<BTreeMap<u64, Piece>>>);

impl Pieces {
    pub(super) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |b| b.len())
    }

    pub(super) fn first_key_value(&self) -> Option<(&u64, &Piece)> {
        self.0.as_ref()?.first_key_value()
    }

    pub(super) fn pop_first(&mut self) -> Option<(u64, Piece)> {
        let b = self.0.as_mut()?;
        let first = b.pop_first();
        if b.is_empty() {
            self.0 = None;
        }
        first
    }

    pub(super) fn range<R: std::ops::RangeBounds<u64> + Clone>(
        &self,
        r: R,
    ) -> impl DoubleEndedIterator<Item = (&u64, &Piece)> {
        self.0.iter().flat_map(move |b| b.range(r.clone()))
    }

    pub(super) fn insert(&mut self, k: u64, p: Piece) {
        self.0.get_or_insert_with(Box::default).insert(k, p);
    }
}

/// The last up to [`COMPARE_WINDOW`] delivered bytes, ending at the delivery
/// point. Grows on demand so short streams (the common case in a capture with
/// many connections) never pay for the full 64 KiB.
pub(super) struct RecentWindow {
    /// Byte at stream offset `o` lives at `(o - base) % COMPARE_WINDOW`.
    ring: Vec<u8>,
    base: u64,
    /// Stream offset one past the newest stored byte.
    end: u64,
}

impl RecentWindow {
    pub(super) fn new() -> Self {
        RecentWindow {
            ring: Vec::new(),
            base: 0,
            end: 0,
        }
    }

    /// Forget everything: after a gap the stored bytes are no longer adjacent
    /// to the delivery point, and keeping offsets simple beats keeping them.
    pub(super) fn reset(&mut self, at: u64) {
        self.ring.clear();
        self.base = at;
        self.end = at;
    }

    /// First stream offset still stored.
    fn start(&self) -> u64 {
        self.end - self.ring.len() as u64
    }

    /// Append bytes delivered at `self.end`.
    pub(super) fn record(&mut self, bytes: &[u8]) {
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
    pub(super) fn conflicts(&self, offset: u64, bytes: &[u8]) -> bool {
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
