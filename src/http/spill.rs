//! Where decoded body bytes go as they are decoded, when the caller supplies a place for
//! them (`export-http` writes them to files): the core hands each decoded chunk over at
//! once and keeps none of it, so what is held in memory does not grow with the bodies.
//! The core never opens a file: the writer is the caller's.
//!
//! Owns: the trait between body decoding and the edge. Must not touch decoding.

use std::fmt;
use std::sync::Arc;

/// A place for response bodies (one writer per body, opened at the response head).
pub trait BodySpill: Send + Sync {
    fn open(&self) -> Box<dyn BodyWriter>;
}

/// The decoded bytes of one body, in order, up to the body cap (`HttpConfig::body_cap`)
/// and the decompression cap; nothing past either.
pub trait BodyWriter: Send {
    fn write(&mut self, chunk: &[u8]);
    /// The body ended, as `end` says: the token under which the caller finds what was
    /// written (`MessageMeta::body_spill`). A writer dropped unfinished wrote nothing
    /// anyone will ask for.
    fn finish(self: Box<Self>, end: BodyEnd) -> u64;
}

/// How a body handed to a writer ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BodyEnd {
    /// Every byte was seen and decoded: the writer got the whole body (unless `truncated`).
    pub whole: bool,
    /// Longer than the body cap: the writer got only its first `body_cap` bytes.
    pub truncated: bool,
    /// Decoding was stopped at the decompression cap (a bomb), after `decoded` bytes.
    pub bomb: bool,
    /// Decoded bytes counted (and hashed) by the core.
    pub decoded: u64,
}

/// A [`BodySpill`] in the HTTP settings (cloned into every connection's assembler).
#[derive(Clone)]
pub struct Spill(pub Arc<dyn BodySpill>);

impl fmt::Debug for Spill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Spill")
    }
}
