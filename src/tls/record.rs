//! TLS record framing of one direction's byte stream: records split across segments,
//! several records per segment, and resynchronisation after bytes that were never
//! captured (or after a malformed header).
//!
//! Memory is bounded: at most one record plus one header is buffered.

use std::collections::VecDeque;

/// Largest fragment a record may carry: TLSCiphertext's 2^14 + 2048 (RFC 5246 §6.2.3;
/// TLS 1.3 allows less, 2^14 + 256).
pub const MAX_FRAGMENT: usize = (1 << 14) + 2048;
const HEADER: usize = 5;

/// One whole record.
#[derive(Debug)]
pub struct Record {
    pub header: [u8; 5],
    pub body: Vec<u8>,
    /// Frame holding the record's first byte, and the one holding its last.
    pub first_frame: u64,
    pub last_frame: u64,
}

impl Record {
    pub fn ctype(&self) -> u8 {
        self.header[0]
    }
    pub fn version(&self) -> u16 {
        u16::from_be_bytes([self.header[1], self.header[2]])
    }
}

/// What framing found.
#[derive(Debug)]
pub enum Framed {
    Record(Record),
    /// Bytes that belong to no record tcpscope could frame: lost in a gap, or skipped
    /// while resynchronising. Comes before the first record after them.
    Lost {
        bytes: u64,
    },
    /// A header that cannot be a TLS record (at `frame`): framing resynchronises.
    Malformed {
        frame: u64,
        len: usize,
    },
}

fn plausible(h: &[u8]) -> bool {
    let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
    (20..=24).contains(&h[0]) && h[1] == 3 && h[2] <= 4 && len <= MAX_FRAGMENT
}

fn body_len(h: &[u8]) -> usize {
    usize::from(u16::from_be_bytes([h[3], h[4]]))
}

#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Stream position of `buf[0]` (bytes pushed since the start, gaps included).
    base: u64,
    /// (stream position, frame) of each push still (partly) in `buf`.
    frames: VecDeque<(u64, u64)>,
    /// False after a gap or a bad header: look for a record start.
    lost: bool,
    lost_bytes: u64,
}

impl Framer {
    pub fn push(&mut self, bytes: &[u8], frame: u64, out: &mut Vec<Framed>) {
        if bytes.is_empty() {
            return;
        }
        let pos = self.base + self.buf.len() as u64;
        self.frames.push_back((pos, frame));
        self.buf.extend_from_slice(bytes);
        self.drain(out);
    }

    /// `len` bytes were never captured: whatever is buffered is lost with them.
    pub fn gap(&mut self, len: u64) {
        self.lost_bytes = self
            .lost_bytes
            .saturating_add(self.buf.len() as u64)
            .saturating_add(len);
        self.consume(self.buf.len());
        self.base = self.base.saturating_add(len);
        self.lost = true;
    }

    fn frame_at(&self, pos: u64) -> u64 {
        self.frames
            .iter()
            .take_while(|(p, _)| *p <= pos)
            .last()
            .map_or(0, |(_, f)| *f)
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.base += n as u64;
        while self.frames.len() > 1 && self.frames[1].0 <= self.base {
            self.frames.pop_front();
        }
        if self.buf.is_empty() {
            self.frames.clear();
        }
    }

    fn drain(&mut self, out: &mut Vec<Framed>) {
        loop {
            if self.lost && !self.resync() {
                return;
            }
            if self.buf.len() < HEADER {
                return;
            }
            if !plausible(&self.buf[..HEADER]) {
                out.push(Framed::Malformed {
                    frame: self.frame_at(self.base),
                    len: body_len(&self.buf),
                });
                self.lost = true;
                continue;
            }
            let end = HEADER + body_len(&self.buf);
            if self.buf.len() < end {
                return;
            }
            if self.lost_bytes > 0 {
                out.push(Framed::Lost {
                    bytes: std::mem::take(&mut self.lost_bytes),
                });
            }
            let first_frame = self.frame_at(self.base);
            let last_frame = self.frame_at(self.base + end as u64 - 1);
            let mut header = [0u8; 5];
            header.copy_from_slice(&self.buf[..HEADER]);
            let body = self.buf[HEADER..end].to_vec();
            self.consume(end);
            out.push(Framed::Record(Record {
                header,
                body,
                first_frame,
                last_frame,
            }));
        }
    }

    /// Find a record start: a plausible header whose record is followed by another
    /// plausible header or ends exactly where the bytes end. Whether it found one (the
    /// bytes before it are lost); false: wait for more bytes.
    fn resync(&mut self) -> bool {
        let b = &self.buf;
        let mut i = 0;
        while i + HEADER <= b.len() {
            if plausible(&b[i..i + HEADER]) {
                let end = i + HEADER + body_len(&b[i..]);
                if end + HEADER <= b.len() && plausible(&b[end..end + HEADER]) || end == b.len() {
                    self.lost_bytes += i as u64;
                    self.consume(i);
                    self.lost = false;
                    return true;
                }
                if end + HEADER > b.len() {
                    // Not enough bytes to confirm this candidate yet.
                    break;
                }
            }
            i += 1;
        }
        // Keep what may still start a record; drop the rest.
        let keep_from = if i + HEADER <= b.len() {
            i
        } else {
            b.len().saturating_sub(HEADER - 1)
        };
        // Never hold more than one largest record and a header while unsynced.
        let keep_from = keep_from.max(b.len().saturating_sub(2 * (HEADER + MAX_FRAGMENT)));
        self.lost_bytes += keep_from as u64;
        self.consume(keep_from);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![t, 3, 3];
        v.extend_from_slice(&(body.len() as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    fn records(out: &[Framed]) -> Vec<(u8, usize, u64, u64)> {
        out.iter()
            .filter_map(|f| match f {
                Framed::Record(r) => Some((r.ctype(), r.body.len(), r.first_frame, r.last_frame)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn split_and_joined_records() {
        let mut f = Framer::default();
        let mut out = Vec::new();
        let a = rec(22, &[1; 100]);
        let b = rec(23, &[2; 10]);
        let c = rec(23, &[3; 7]);
        f.push(&a[..50], 1, &mut out);
        f.push(&[&a[50..], &b[..], &c[..3]].concat(), 2, &mut out);
        f.push(&c[3..], 3, &mut out);
        assert_eq!(
            records(&out),
            vec![(22, 100, 1, 2), (23, 10, 2, 2), (23, 7, 2, 3)]
        );
    }

    #[test]
    fn resync_after_gap_and_after_oversized_length() {
        let mut f = Framer::default();
        let mut out = Vec::new();
        let a = rec(23, &[1; 40]);
        let b = rec(23, &[2; 30]);
        f.push(&a[..20], 1, &mut out);
        f.gap(21);
        // The rest of `a` was lost; `b` follows.
        f.push(&b, 2, &mut out);
        assert_eq!(records(&out), vec![(23, 30, 2, 2)]);
        assert!(matches!(out[0], Framed::Lost { bytes: 41 }));
        out.clear();
        let mut bad = vec![23, 3, 3];
        bad.extend_from_slice(&((MAX_FRAGMENT + 1) as u16).to_be_bytes());
        f.push(&[&bad[..], &b[..]].concat(), 3, &mut out);
        assert!(matches!(out[0], Framed::Malformed { frame: 3, len } if len == MAX_FRAGMENT + 1));
        assert_eq!(records(&out), vec![(23, 30, 3, 3)]);
    }

    #[test]
    fn garbage_is_bounded() {
        let mut f = Framer::default();
        let mut out = Vec::new();
        f.gap(1);
        for i in 0..200u64 {
            f.push(&[0xAB; 10_000], i, &mut out);
            assert!(f.buf.len() <= 2 * (HEADER + MAX_FRAGMENT) + 10_000);
        }
        assert!(records(&out).is_empty());
    }
}
