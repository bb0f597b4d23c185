//! Fast path for classic pcap files: the records are handed out straight from blocks of
//! the file (mapped windows, or 1 MiB buffers filled by `read`: see `block.rs`). libpcap
//! reads offline files through stdio in 4 KiB pieces (52,000 read calls for a 216 MB
//! file, and two extra copies of every byte); on the benchmark file reading in large
//! blocks cut the system time roughly in half. The packets handed out are exactly
//! libpcap's (same frames, timestamps in nanoseconds, lengths, link type, same stopping
//! point on damaged files): `tests/readers.rs` compares the two on every capture.
//! pcapng, standard input and live capture still go through libpcap.

use super::block::{Block, Feed};
use super::random::{Layout, MAX_SNAPLEN, u32_at};
use super::{CaptureError, RawPacket, ReadSummary, cut_warning};
use crate::ts::Ts;
use std::fs::File;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

/// What the reader hands each packet to: the packet, and the block its bytes lie in.
pub(super) type Handler<'f> = dyn FnMut(&RawPacket<'_>, Option<&Block>) -> ControlFlow<()> + 'f;

/// Read `path` if it is a classic pcap file; `Ok(None)` when it is not (the caller then
/// uses libpcap).
pub(super) fn read(
    path: &Path,
    name: &str,
    f: &mut Handler<'_>,
) -> Result<Option<ReadSummary>, CaptureError> {
    let file = File::open(path).map_err(|e| unreadable(name, &e))?;
    let spool = super::spool::spool_state(path).is_some();
    let mut hdr = [0u8; 24];
    // A spool of standard input is followed as it grows.
    let mut tail = super::spool::Tail::new(file, path);
    if read_full(&mut tail, &mut hdr).map_err(|e| unreadable(name, &e))? < 24 {
        return Ok(None);
    }
    let Some(layout) = super::random::layout_of(&hdr) else {
        return Ok(None);
    };
    // The blocks only once the file is known to be classic pcap; a spool grows, so it is
    // read, never mapped.
    let feed = match (spool, &tail) {
        (false, t) => Feed::map(t.inner(), 24),
        _ => None,
    }
    .unwrap_or_else(|| Feed::read(Box::new(tail)));
    Ok(Some(records(feed, layout, name, f)?))
}

/// Read a classic pcap file from a stream (decompressed, or standard input), header
/// included; `Ok(None)` when it is not one.
pub(super) fn read_stream(
    mut r: Box<dyn Read + Send>,
    name: &str,
    f: &mut Handler<'_>,
) -> Result<Option<ReadSummary>, CaptureError> {
    let mut hdr = [0u8; 24];
    if read_full(&mut r, &mut hdr).map_err(|e| unreadable(name, &e))? < 24 {
        return Ok(None);
    }
    let Some(layout) = super::random::layout_of(&hdr) else {
        return Ok(None);
    };
    Ok(Some(records(Feed::read(r), layout, name, f)?))
}

/// Hand out every record after the header.
fn records(
    feed: Feed,
    layout: super::random::Layout,
    name: &str,
    f: &mut Handler<'_>,
) -> Result<ReadSummary, CaptureError> {
    let mut rd = Records {
        feed,
        block: None,
        at: 0,
        ahead: 0,
        pos: 24,
        layout,
        name,
        summary: ReadSummary {
            reader: "built-in pcap reader",
            ..Default::default()
        },
    };
    while rd.step(f)?.is_continue() {}
    Ok(rd.summary)
}

/// The records of one classic pcap file after its header.
struct Records<'n> {
    feed: Feed,
    /// The block being read and where the next record starts in it.
    block: Option<Block>,
    at: usize,
    /// Offset in the block up to which the bytes were touched ahead of `at`.
    ahead: usize,
    /// File offset of `at`.
    pos: u64,
    layout: Layout,
    name: &'n str,
    summary: ReadSummary,
}

/// A record's time from its seconds and fraction (micro- or nanoseconds).
fn ts_of(layout: &Layout, secs: u32, frac: u32) -> Ts {
    let frac = i64::from(frac);
    Ts::from_parts(
        i64::from(secs),
        if layout.nanos { frac } else { frac * 1000 },
    )
}

impl Records<'_> {
    /// Bytes of the current block from the next record on.
    fn rest(&self) -> &[u8] {
        self.block.as_ref().map_or(&[], |b| &b.bytes()[self.at..])
    }

    /// Make at least `need` bytes from the next record on lie in one block; false when the
    /// file ends before.
    fn have(&mut self, need: usize) -> Result<bool, CaptureError> {
        if self.rest().len() >= need {
            return Ok(true);
        }
        let carry = self.block.as_ref().map(|b| (b, self.at));
        let b = self
            .feed
            .next(carry, self.pos, need)
            .map_err(|e| unreadable(self.name, &e))?;
        self.block = Some(b);
        self.at = 0;
        self.ahead = 0;
        Ok(self.rest().len() >= need)
    }

    /// Hand out the next record; a damaged one ends the file with libpcap's warning.
    fn step(&mut self, f: &mut Handler<'_>) -> Result<ControlFlow<()>, CaptureError> {
        let (be, snaplen) = (self.layout.big_endian, self.layout.snaplen);
        if !self.have(16)? {
            let got = self.rest().len();
            if got == 0 {
                return Ok(ControlFlow::Break(()));
            }
            return Ok(self.cut(&format!(
                "truncated dump file; tried to read 16 header bytes, only got {got}"
            )));
        }
        self.touch_ahead();
        let caplen = u32_at(self.rest(), 8, be);
        if caplen > MAX_SNAPLEN {
            return Ok(self.cut(&format!(
                "invalid packet capture length {caplen}, bigger than snaplen of {MAX_SNAPLEN}"
            )));
        }
        let need = 16 + caplen as usize;
        if !self.have(need)? {
            let got = self.rest().len() - 16;
            return Ok(self.cut(&format!(
                "truncated dump file; tried to read {caplen} captured bytes, only got {got}"
            )));
        }
        // Like libpcap: a record longer than the file's snapshot length is cut to it.
        let keep = if snaplen > 0 && caplen > snaplen {
            snaplen
        } else {
            caplen
        } as usize;
        self.summary.packets += 1;
        let rec = self.rest();
        let raw = RawPacket {
            index: self.summary.packets,
            ts: ts_of(&self.layout, u32_at(rec, 0, be), u32_at(rec, 4, be)),
            linktype: self.layout.linktype,
            orig_len: u32_at(rec, 12, be),
            data: &rec[16..16 + keep],
        };
        let step = f(&raw, self.block.as_ref());
        self.at += need;
        self.pos += need as u64;
        Ok(step)
    }

    /// Bring the file's bytes a little ahead of the next record into the cache, a line
    /// at a time. Without it every record header is a wait on memory: the next header's
    /// place is known only once this one is read, so the reader ran from one cache miss to
    /// the next (87% of its record parsing time was the first load of each header, on the
    /// shared benchmark with 2 workers).
    fn touch_ahead(&mut self) {
        const AHEAD: usize = 8 << 10;
        const LINE: usize = 64;
        let Some(b) = self.block.as_ref() else {
            return;
        };
        let bytes = b.bytes();
        let to = (self.at + AHEAD).min(bytes.len());
        let mut at = self.ahead.max(self.at);
        while at < to {
            super::prefetch(&bytes[at]);
            at += LINE;
        }
        self.ahead = at;
    }

    /// The file ends at a damaged record.
    fn cut(&mut self, why: &str) -> ControlFlow<()> {
        self.summary
            .warnings
            .push(cut_warning(self.summary.packets, why));
        ControlFlow::Break(())
    }
}

fn unreadable(name: &str, e: &std::io::Error) -> CaptureError {
    CaptureError::Unreadable {
        file: name.to_string(),
        detail: e.to_string(),
    }
}

/// Read until `buf` is full or the file ends; the number of bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
