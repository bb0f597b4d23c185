//! Telling HTTP/2 from the bytes: the client preface (prior knowledge). While the
//! client's first bytes may still be the preface, everything either side delivers is
//! held here (bounded), then handed to whichever parser the verdict picks, in order.
//!
//! The Upgrade path (HTTP/1.1 `Upgrade: h2c` + `101`) is found by the HTTP/1 assembler,
//! which hands the request and the bytes after the 101 over.
//!
//! Owns: `Probe`. Must not touch parsing of either protocol.

use super::frame::PREFACE;
use super::{Dir, Input};
use crate::ts::Ts;

/// Bytes held (both directions) while undecided; past it the verdict is "not HTTP/2".
pub const PROBE_HOLD_CAP: usize = 64 << 10;

/// Something delivered while undecided, kept to hand on.
#[derive(Clone, Debug)]
pub enum Held {
    Bytes {
        dir: Dir,
        bytes: Vec<u8>,
        frame: u64,
        ts: Ts,
    },
    Gap {
        dir: Dir,
        offset: u64,
        len: u64,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Still possibly the preface: the input was held.
    Undecided,
    Http2,
    NotHttp2,
}

#[derive(Debug, Default)]
pub struct Probe {
    client_seen: usize,
    held_bytes: usize,
    held: Vec<Held>,
}

impl Probe {
    /// Offer what `dir` delivered (`offset`: the stream offset of a gap). Once the verdict
    /// is given, `take_held` returns everything offered so far, this one included.
    pub fn offer(
        &mut self,
        dir: Dir,
        input: Input<'_>,
        offset: u64,
        frame: u64,
        ts: Ts,
    ) -> Verdict {
        let verdict = match (dir, input) {
            (Dir::Client, Input::Bytes(b)) => {
                let at = self.client_seen;
                let n = (PREFACE.len() - at.min(PREFACE.len())).min(b.len());
                let want = PREFACE.get(at..at + n).unwrap_or_default();
                self.client_seen += n;
                if b.get(..n) != Some(want) {
                    Verdict::NotHttp2
                } else if self.client_seen == PREFACE.len() {
                    Verdict::Http2
                } else {
                    Verdict::Undecided
                }
            }
            // A gap before the preface was seen whole: it cannot be told.
            (Dir::Client, Input::Gap(_)) => Verdict::NotHttp2,
            (Dir::Server, _) => Verdict::Undecided,
        };
        match input {
            Input::Bytes(b) => {
                self.held_bytes = self.held_bytes.saturating_add(b.len());
                self.held.push(Held::Bytes {
                    dir,
                    bytes: b.to_vec(),
                    frame,
                    ts,
                });
            }
            Input::Gap(len) => self.held.push(Held::Gap { dir, offset, len }),
        }
        if verdict == Verdict::Undecided
            && (self.held_bytes > PROBE_HOLD_CAP || self.held.len() > 1024)
        {
            return Verdict::NotHttp2;
        }
        verdict
    }

    pub fn take_held(&mut self) -> Vec<Held> {
        self.held_bytes = 0;
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preface_split_over_pushes_is_found() {
        let mut p = Probe::default();
        let t = Ts::default();
        assert_eq!(
            p.offer(Dir::Client, Input::Bytes(&PREFACE[..5]), 0, 1, t),
            Verdict::Undecided
        );
        assert_eq!(
            p.offer(Dir::Server, Input::Bytes(b"\0\0\0\x04"), 0, 2, t),
            Verdict::Undecided
        );
        let mut rest = PREFACE[5..].to_vec();
        rest.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
        assert_eq!(
            p.offer(Dir::Client, Input::Bytes(&rest), 5, 3, t),
            Verdict::Http2
        );
        assert_eq!(p.take_held().len(), 3);
    }

    #[test]
    fn http1_and_gaps_are_not_http2() {
        let t = Ts::default();
        let mut p = Probe::default();
        assert_eq!(
            p.offer(Dir::Client, Input::Bytes(b"GET / HTTP/1.1\r\n"), 0, 1, t),
            Verdict::NotHttp2
        );
        let mut p = Probe::default();
        assert_eq!(
            p.offer(Dir::Client, Input::Bytes(b"PRI * HTTP/1.1"), 0, 1, t),
            Verdict::NotHttp2
        );
        let mut p = Probe::default();
        assert_eq!(
            p.offer(Dir::Client, Input::Gap(100), 0, 1, t),
            Verdict::NotHttp2
        );
        let mut p = Probe::default();
        let big = vec![0u8; PROBE_HOLD_CAP + 1];
        assert_eq!(
            p.offer(Dir::Server, Input::Bytes(&big), 0, 1, t),
            Verdict::NotHttp2,
            "bounded"
        );
    }
}
