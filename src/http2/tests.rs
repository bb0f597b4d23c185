//! Session tests over hand-built frame streams: hostile bytes and gaps in any order
//! never panic and stay bounded.

use super::*;
use crate::ts::Ts;

/// A tiny deterministic generator (no dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }
}

/// A frame with a random plausible-or-not header and payload.
fn random_frame(r: &mut Lcg) -> Vec<u8> {
    let len = match r.next() % 8 {
        0 => 0,
        1 => r.next() % 16_777_216,
        _ => r.next() % 300,
    };
    let ty = (r.next() % 12) as u8;
    let flags = r.next() as u8;
    let stream = r.next() % 8;
    let mut v = len.to_be_bytes()[1..].to_vec();
    v.extend([ty, flags]);
    v.extend(stream.to_be_bytes());
    let body = (len as usize).min(400);
    v.extend((0..body).map(|_| r.next() as u8));
    v
}

#[test]
fn random_frames_and_gaps_never_panic_and_stay_bounded() {
    let mut r = Lcg(16);
    for round in 0..300 {
        let mut s = Http2Session::new(HttpConfig::default(), Origin::PriorKnowledge);
        s.push(Dir::Client, Input::Bytes(frame::PREFACE), 1, Ts::default());
        for i in 0..40u64 {
            let dir = if r.next().is_multiple_of(2) {
                Dir::Client
            } else {
                Dir::Server
            };
            if r.next().is_multiple_of(10) {
                s.push(
                    dir,
                    Input::Gap(u64::from(r.next() % 5000)),
                    0,
                    Ts::default(),
                );
                continue;
            }
            let f = random_frame(&mut r);
            // Split at a random point: frame headers across pushes.
            let cut = (r.next() as usize) % (f.len() + 1);
            s.push(dir, Input::Bytes(&f[..cut]), i + 2, Ts::default());
            s.push(dir, Input::Bytes(&f[cut..]), i + 2, Ts::default());
        }
        let (ex, sum) = s.into_parts();
        assert!(ex.len() <= MAX_STREAMS, "round {round}");
        assert!(sum.anomalies.len() <= MAX_CONN_NOTES);
        assert!(sum.shown_fields <= summary::MAX_SHOWN_FIELDS);
        let ids: Vec<u32> = ex
            .iter()
            .filter_map(|e| e.h2.as_ref().map(|i| i.stream_id))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted, "stream id order");
    }
}

#[test]
fn a_gap_over_a_boundary_counts_what_follows_and_poisons() {
    let mut s = Http2Session::new(HttpConfig::default(), Origin::PriorKnowledge);
    let t = Ts::default();
    s.push(Dir::Client, Input::Bytes(frame::PREFACE), 1, t);
    s.push(
        Dir::Client,
        Input::Bytes(&[0, 0, 0, 4, 0, 0, 0, 0, 0]),
        1,
        t,
    );
    s.push(Dir::Client, Input::Gap(7), 0, t);
    s.push(Dir::Client, Input::Bytes(&[0x55; 30]), 3, t);
    s.push(Dir::Client, Input::Gap(5), 0, t);
    s.push(Dir::Client, Input::Bytes(&[0x55; 2]), 4, t);
    assert!(s.hpack[0].is_poisoned());
    assert!(
        !s.hpack[1].is_poisoned(),
        "the other direction's table is its own"
    );
    let (_, sum) = s.into_parts();
    let l = sum.unparsed_after_gap.client.clone().unwrap_or_default();
    assert_eq!(
        (l.gap, l.frame, l.bytes, l.later_gaps, l.frames_before),
        (7, Some(3), 32, 5, 1)
    );
    assert_eq!(sum.unparsed_bytes.client, 37);
    assert!(sum.unparsed_after_gap.server.is_none());
}
