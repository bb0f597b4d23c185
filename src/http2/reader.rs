//! One direction's framing across segment boundaries and gaps: the client preface, frame
//! headers split over pushes, payloads buffered (control frames, header fragments) or
//! streamed (DATA), caps on what is buffered, and what a gap does to the framing.
//!
//! A gap inside a frame whose length is known leaves the framing intact (the payload's
//! lost part is noted; a lost header fragment poisons the HPACK table). A gap anywhere
//! else loses the frame boundaries: the direction's remaining bytes are counted as
//! unparsed, never read as frames.
//!
//! Owns: `DirReader`. Must not touch streams or settings (see `control`).

use super::frame::{self, FrameHeader, FrameType, HEADER_LEN};
use super::summary::LostFraming;
use super::{Dir, Http2Session};
use crate::http::H2Note;
use crate::ts::Ts;

/// Non-DATA payloads longer than this are skipped, not buffered (a 2^24-1 length must
/// not become a 16 MiB buffer per direction).
pub(super) const FRAME_BUF_CAP: usize = 64 << 10;

pub(super) struct DirReader {
    /// Preface bytes still expected (the client's 24; 0 for the server).
    preface_left: usize,
    hdr: [u8; HEADER_LEN],
    hdr_len: usize,
    /// Packet of the frame header's first byte.
    hdr_at: (u64, Ts),
    pub(super) cur: Option<InFrame>,
    /// The framing was lost: nothing more is parsed.
    pub(super) lost: bool,
    pub(super) unparsed: u64,
    /// Frame headers read so far.
    pub(super) frames: u64,
    /// The gap that broke the framing, once it did.
    pub(super) lost_at: Option<LostFraming>,
}

pub(super) struct InFrame {
    pub(super) h: FrameHeader,
    /// Payload bytes seen (or lost in gaps).
    got: u32,
    mode: Mode,
    pub(super) buf: Vec<u8>,
    pub(super) at: (u64, Ts),
    /// DATA: the pad length once read (PADDED), else 0.
    pad: Option<u8>,
    /// Payload bytes lost in gaps.
    pub(super) missing: u64,
    /// Its entry in the frame list, if kept.
    pub(super) record: Option<usize>,
}

impl InFrame {
    /// The payload was skipped or partly lost: only its header is known.
    pub(super) fn unread(&self) -> bool {
        self.mode == Mode::Skip
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Buffer,
    Data,
    Skip,
}

impl DirReader {
    pub(super) fn new(client: bool) -> Self {
        DirReader {
            preface_left: if client { frame::PREFACE.len() } else { 0 },
            hdr: [0; HEADER_LEN],
            hdr_len: 0,
            hdr_at: (0, Ts::default()),
            cur: None,
            lost: false,
            unparsed: 0,
            frames: 0,
            lost_at: None,
        }
    }
}

impl Http2Session {
    pub(super) fn bytes(&mut self, dir: Dir, mut b: &[u8], frame: u64, ts: Ts) {
        let d = dir.idx();
        while !b.is_empty() {
            let rd = &mut self.rd[d];
            if rd.lost {
                rd.unparsed += b.len() as u64;
                if let Some(l) = rd.lost_at.as_mut() {
                    l.bytes += b.len() as u64;
                    l.frame.get_or_insert(frame);
                }
                return;
            }
            if rd.preface_left > 0 {
                let at = frame::PREFACE.len() - rd.preface_left;
                let n = rd.preface_left.min(b.len());
                let want = frame::PREFACE.get(at..at + n).unwrap_or_default();
                if b.get(..n) != Some(want) {
                    rd.lost = true;
                    self.note(H2Note::BadPreface);
                    continue;
                }
                rd.preface_left -= n;
                b = b.get(n..).unwrap_or_default();
                if rd.preface_left == 0 {
                    self.sum.preface_frame = Some(frame);
                }
                continue;
            }
            if rd.cur.is_none() {
                if rd.hdr_len == 0 {
                    rd.hdr_at = (frame, ts);
                }
                let n = (HEADER_LEN - rd.hdr_len).min(b.len());
                if let (Some(dst), Some(src)) =
                    (rd.hdr.get_mut(rd.hdr_len..rd.hdr_len + n), b.get(..n))
                {
                    dst.copy_from_slice(src);
                }
                rd.hdr_len += n;
                b = b.get(n..).unwrap_or_default();
                if rd.hdr_len == HEADER_LEN {
                    rd.hdr_len = 0;
                    rd.frames += 1;
                    let h = FrameHeader::parse(&rd.hdr);
                    let at = rd.hdr_at;
                    self.start_frame(dir, h, at);
                }
                continue;
            }
            let used = self.payload(dir, b, frame, ts);
            b = b.get(used..).unwrap_or_default();
        }
    }

    /// A frame header was read: count it, check its length, choose how to read it.
    fn start_frame(&mut self, dir: Dir, h: FrameHeader, at: (u64, Ts)) {
        self.count_frame(dir, &h, at);
        let max = self.max_frame[dir.idx()];
        if h.len > max {
            self.note(H2Note::FrameTooLarge {
                dir,
                len: h.len,
                max,
            });
        }
        let mode = if h.ty == FrameType::Data {
            self.data_start(dir, &h);
            Mode::Data
        } else if h.len as usize <= FRAME_BUF_CAP {
            Mode::Buffer
        } else {
            self.note(H2Note::FrameSkipped {
                dir,
                ty: h.ty.name(),
                len: h.len,
            });
            self.fragment_lost(dir, &h, at);
            Mode::Skip
        };
        let cap = if mode == Mode::Buffer {
            h.len as usize
        } else {
            0
        };
        self.rd[dir.idx()].cur = Some(InFrame {
            h,
            got: 0,
            mode,
            buf: Vec::with_capacity(cap.min(16 << 10)),
            at,
            pad: None,
            missing: 0,
            record: self
                .sum
                .frame_list
                .len()
                .checked_sub(1)
                .filter(|_| !self.sum.frame_list_truncated),
        });
        if h.len == 0 {
            self.end_frame(dir);
        }
    }

    /// Payload bytes of the frame in progress; returns how many were used.
    fn payload(&mut self, dir: Dir, b: &[u8], frame: u64, ts: Ts) -> usize {
        let Some(cur) = self.rd[dir.idx()].cur.as_mut() else {
            return 0;
        };
        let left = (cur.h.len - cur.got) as usize;
        let n = left.min(b.len());
        let chunk = b.get(..n).unwrap_or_default();
        let start = cur.got;
        cur.got += n as u32;
        match cur.mode {
            Mode::Buffer => cur.buf.extend_from_slice(chunk),
            Mode::Skip => {}
            Mode::Data => {
                let (h, pad) = (cur.h, &mut cur.pad);
                let data = data_part(&h, pad, start, chunk);
                if !data.is_empty() {
                    self.streams.data(dir, h.stream, data, frame, ts);
                }
            }
        }
        if self.rd[dir.idx()]
            .cur
            .as_ref()
            .is_some_and(|c| c.got == c.h.len)
        {
            self.end_frame(dir);
        }
        n
    }

    /// `len` bytes of `dir` were never captured.
    pub(super) fn gap(&mut self, dir: Dir, len: u64) {
        let d = dir.idx();
        let streams_open = self.streams.open_in(dir);
        let rd = &mut self.rd[d];
        if rd.lost {
            rd.unparsed = rd.unparsed.saturating_add(len);
            if let Some(l) = rd.lost_at.as_mut() {
                l.later_gaps = l.later_gaps.saturating_add(len);
            }
            return;
        }
        let inside = rd.preface_left == 0
            && rd.hdr_len == 0
            && rd
                .cur
                .as_ref()
                .is_some_and(|c| u64::from(c.h.len - c.got) >= len);
        if !inside {
            rd.lost = true;
            // The frame in progress (its header read, its end not) is not complete.
            let frames_before = rd.frames - u64::from(rd.cur.is_some());
            rd.cur = None;
            rd.lost_at = Some(LostFraming {
                frame: None,
                gap: len,
                bytes: 0,
                later_gaps: 0,
                frames_before,
                streams_open,
            });
            self.note(H2Note::FramingLost { dir, gap: len });
            // Header blocks of this direction may be in the lost bytes.
            self.hpack[d].poison();
            self.block[d] = None;
            self.streams.lost(dir, len);
            return;
        }
        let Some(cur) = rd.cur.as_mut() else { return };
        cur.got += len as u32;
        cur.missing += len;
        let (h, at, done) = (cur.h, cur.at, cur.got == cur.h.len);
        match cur.mode {
            Mode::Data => self.streams.data_missing(dir, h.stream, len),
            Mode::Buffer | Mode::Skip => {
                if let Some(c) = self.rd[d].cur.as_mut() {
                    c.mode = Mode::Skip;
                    c.buf = Vec::new();
                }
                self.fragment_lost(dir, &h, at);
            }
        }
        if done {
            self.end_frame(dir);
        }
    }

    /// A header fragment of `h` will not be read (skipped or lost): the table is unknown.
    fn fragment_lost(&mut self, dir: Dir, h: &FrameHeader, at: (u64, Ts)) {
        if matches!(
            h.ty,
            FrameType::Headers | FrameType::PushPromise | FrameType::Continuation
        ) {
            self.hpack[dir.idx()].poison();
            self.block[dir.idx()] = None;
            self.streams
                .headers_lost(dir, h.stream, h.at_end_stream(), at, self.initial_window);
        }
    }

    /// Flow control of a DATA frame's whole payload (padding counts, RFC 9113 §6.9.1).
    fn data_start(&mut self, dir: Dir, h: &FrameHeader) {
        let d = dir.idx();
        let len = i64::from(h.len);
        let before = self.conn_window[d];
        self.conn_window[d] -= len;
        let at = self.rd[d].hdr_at;
        let mut blocked = Vec::new();
        if before > 0 && self.conn_window[d] <= 0 {
            self.sum.window_blocked += 1;
            self.sum.sample(at, dir, 0, self.conn_window[d]);
            blocked.push((0, self.conn_window[d]));
        }
        if let Some(w) = self.streams.window_mut(dir, h.stream) {
            let before = *w;
            *w -= len;
            let now = *w;
            if before > 0 && now <= 0 {
                self.sum.window_blocked += 1;
                self.sum.sample(at, dir, h.stream, now);
                blocked.push((h.stream, now));
            }
        }
        if !blocked.is_empty() && !self.sum.frame_list_truncated {
            let last = self.sum.frame_list.len().checked_sub(1);
            self.set_detail(last, super::summary::FrameDetail::Blocked(blocked));
        }
    }
}

impl FrameHeader {
    fn at_end_stream(&self) -> bool {
        self.ty == FrameType::Headers && self.has(frame::END_STREAM)
    }
}

/// The data bytes of a DATA payload chunk starting at payload offset `start` (the pad
/// length byte and the padding removed).
fn data_part<'a>(h: &FrameHeader, pad: &mut Option<u8>, start: u32, chunk: &'a [u8]) -> &'a [u8] {
    let mut chunk = chunk;
    let mut start = start;
    if h.has(frame::PADDED) {
        if start == 0 {
            let Some((&p, rest)) = chunk.split_first() else {
                return &[];
            };
            *pad = Some(p);
            chunk = rest;
            start = 1;
        }
    } else {
        *pad = Some(0);
    }
    let header = u32::from(h.has(frame::PADDED));
    // Padding as long as the payload or longer is a PROTOCOL_ERROR: no data then.
    let end = h
        .len
        .saturating_sub(u32::from(pad.unwrap_or(0)))
        .max(header);
    let from = start;
    let to = (start + chunk.len() as u32).min(end);
    if to <= from {
        return &[];
    }
    chunk.get(..(to - from) as usize).unwrap_or_default()
}
