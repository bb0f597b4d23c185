//! What is odd about an HTTP/2 stream or connection, as typed values (the http2 module
//! finds them; they live here so an `Exchange`'s anomaly list stays one typed list).
//!
//! Owns: the `H2Note` enum and its sentence. Must not touch parsing.

use std::fmt;

use super::Dir;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum H2Note {
    /// A header block of `dir` came after a loss that left the HPACK table unknown.
    TablePoisoned { dir: Dir },
    /// The HPACK decoder refused the block.
    HpackError { dir: Dir, error: String },
    /// HEADERS + CONTINUATION grew past the cap (a CONTINUATION flood).
    HeaderBlockTooLarge { dir: Dir, cap: usize, frames: u64 },
    /// The decoded header list passed the cap (an HPACK bomb): the rest is not kept.
    HeaderListTooLarge { dir: Dir, cap: usize },
    /// A frame longer than the peer's SETTINGS_MAX_FRAME_SIZE (a FRAME_SIZE_ERROR).
    FrameTooLarge { dir: Dir, len: u32, max: u32 },
    /// A non-DATA frame longer than this tool buffers: skipped unread.
    FrameSkipped {
        dir: Dir,
        ty: &'static str,
        len: u32,
    },
    /// A dynamic table size asked for above this tool's cap.
    TableSizeOverCap { dir: Dir, size: u64, cap: u32 },
    /// A gap broke the framing: the direction's remaining bytes are not parsed.
    FramingLost { dir: Dir, gap: u64 },
    /// Bytes of this stream's frames lost in a gap.
    Gap { dir: Dir, len: u64 },
    /// More streams than the cap: later ones are counted, not listed.
    StreamsCapped { cap: usize },
    /// A frame that breaks RFC 9113 (what, in a fixed phrase).
    Protocol { dir: Dir, what: &'static str },
    /// A header block `dir` sent on this stream was lost (gap, cap, protocol error).
    HeaderBlockLost { dir: Dir },
    /// The client's first bytes were not the connection preface.
    BadPreface,
}

impl fmt::Display for H2Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |d: &Dir| match d {
            Dir::Client => "client",
            Dir::Server => "server",
        };
        match self {
            H2Note::TablePoisoned { dir } => write!(
                f,
                "HTTP/2 {} header block undecodable: an earlier loss left the HPACK table unknown",
                side(dir)
            ),
            H2Note::HpackError { dir, error } => {
                write!(f, "HTTP/2 {} header block: HPACK error: {error}", side(dir))
            }
            H2Note::HeaderBlockTooLarge { dir, cap, frames } => write!(
                f,
                "HTTP/2 {} header block over {cap} bytes in {frames} frames (CONTINUATION flood?): not decoded",
                side(dir)
            ),
            H2Note::HeaderListTooLarge { dir, cap } => write!(
                f,
                "HTTP/2 {} header list decodes to over {cap} bytes (HPACK bomb?): the rest not kept",
                side(dir)
            ),
            H2Note::FrameTooLarge { dir, len, max } => write!(
                f,
                "HTTP/2 {} frame of {len} bytes exceeds SETTINGS_MAX_FRAME_SIZE {max}",
                side(dir)
            ),
            H2Note::FrameSkipped { dir, ty, len } => write!(
                f,
                "HTTP/2 {} {ty} frame of {len} bytes too long to read: skipped",
                side(dir)
            ),
            H2Note::TableSizeOverCap { dir, size, cap } => write!(
                f,
                "HTTP/2 {} HPACK table size {size} above the cap {cap}",
                side(dir)
            ),
            H2Note::FramingLost { dir, gap } => write!(
                f,
                "HTTP/2 {} framing lost in a gap of {gap} bytes: the rest is not parsed",
                side(dir)
            ),
            H2Note::Gap { dir, len } => write!(f, "HTTP/2 {} gap of {len} bytes", side(dir)),
            H2Note::StreamsCapped { cap } => {
                write!(f, "more than {cap} HTTP/2 streams: later ones not listed")
            }
            H2Note::Protocol { dir, what } => {
                write!(f, "HTTP/2 {} protocol error: {what}", side(dir))
            }
            H2Note::HeaderBlockLost { dir } => {
                write!(f, "HTTP/2 {} header block lost", side(dir))
            }
            H2Note::BadPreface => f.write_str("HTTP/2 client preface malformed"),
        }
    }
}
