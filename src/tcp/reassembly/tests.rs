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
