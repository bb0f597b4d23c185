//! Per-direction parse state: the phase (looking for a start line, in a body, tunnel),
//! the buffered unfinished bytes with the frame and time each push brought, and the
//! message in progress.
//!
//! Owns: the state types and their small helpers. Must not touch exchanges.

use super::body::BodySink;
use super::chunked::Chunked;
use super::pairing::Loss;
use crate::ts::Ts;

/// (offset in the buffer, frame, ts) of a push that contributed to it.
pub(super) type Mark = (usize, u64, Ts);

pub(super) enum BodyState {
    Length(u64),
    Chunked(Box<Chunked>),
    Close,
}

pub(super) enum Phase {
    /// Looking for a start line. `at_line_start` = false means we are inside
    /// a line we decided to skip, so only bytes after the next LF count.
    AwaitStart {
        at_line_start: bool,
    },
    Body(BodyState),
    /// Upgraded or CONNECT tunnel: bytes are not HTTP any more.
    Tunnel,
    Closed,
    /// Connection is not HTTP.
    Off,
}

pub(super) struct Current {
    pub(super) idx: usize,
    pub(super) sink: BodySink,
    pub(super) expect_continue: bool,
    pub(super) missing: bool,
    /// Body bytes known lost in gaps; None once a gap broke the framing.
    pub(super) missing_bytes: Option<u64>,
    pub(super) head_len: u64,
}

pub(super) struct DirState {
    pub(super) phase: Phase,
    /// Unconsumed bytes (a partial header section or undecided line),
    /// bounded by roughly `header_cap`.
    pub(super) buf: Vec<u8>,
    /// (offset in buf, frame, ts) of each push that contributed to buf.
    pub(super) marks: Vec<Mark>,
    /// Resume offset for the end-of-head search, relative to buf start (> 0: the start
    /// line was already found good).
    pub(super) head_scanned: usize,
    /// Bytes of an undecided start line already checked ("maybe", no line end in them):
    /// it is checked again only once a line end (or the size limit) arrives, so a line
    /// arriving a byte at a time costs linear, not quadratic, work.
    pub(super) start_scanned: usize,
    pub(super) cur: Option<Current>,
    pub(super) unparsed: u64,
    pub(super) early: [u8; 8],
    pub(super) early_len: usize,
    pub(super) sniffed: bool,
    /// Stream offset of the next byte (kept for `gap` without an offset).
    pub(super) offset: u64,
    /// A gap broke the framing: look for the next start line at any byte.
    pub(super) resync: bool,
    /// A head of this side has been seen.
    pub(super) headed: bool,
    pub(super) loss: Option<Loss>,
    /// (bytes, count) of complete messages, head and body: the average size estimates how
    /// many messages a gap swallowed.
    pub(super) sizes: (u64, u64),
    /// The frame of the last bytes pushed (0: none yet).
    pub(super) last_frame: u64,
}

impl DirState {
    pub(super) fn new() -> Self {
        DirState {
            phase: Phase::AwaitStart {
                at_line_start: true,
            },
            buf: Vec::new(),
            marks: Vec::new(),
            head_scanned: 0,
            start_scanned: 0,
            cur: None,
            unparsed: 0,
            early: [0; 8],
            early_len: 0,
            sniffed: false,
            offset: 0,
            resync: false,
            headed: false,
            loss: None,
            sizes: (0, 0),
            last_frame: 0,
        }
    }

    /// Between messages with none found yet: bytes that are no start line here belong to
    /// a message whose head was never captured (the capture began inside it).
    pub(super) fn lost_its_first_head(&self) -> bool {
        !self.headed && matches!(self.phase, Phase::AwaitStart { .. })
    }

    /// A head was found: the search for one ends. Returns the bytes skipped before it if
    /// it is this side's first head and no gap came before it: they belong to a message
    /// the capture began inside of (said on the head's exchange).
    pub(super) fn head_found(&mut self) -> Option<u64> {
        self.resync = false;
        let first = !std::mem::replace(&mut self.headed, true);
        (first && self.loss.is_none() && self.unparsed > 0).then_some(self.unparsed)
    }

    /// Drop buffered bytes; they can never be parsed now.
    pub(super) fn discard_buf(&mut self, count_unparsed: bool) {
        if count_unparsed {
            self.unparsed += self.buf.len() as u64;
        }
        self.buf = Vec::new();
        self.marks.clear();
        self.head_scanned = 0;
        self.start_scanned = 0;
    }
}

pub(super) fn frame_at(marks: &[Mark], pos: usize) -> (u64, Ts) {
    let i = marks.partition_point(|m| m.0 <= pos);
    marks
        .get(i.saturating_sub(1))
        .map_or((0, Ts(0)), |&(_, f, t)| (f, t))
}
