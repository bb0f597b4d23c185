//! JSON as the reports write it: serde_json's, plus the characters that are invisible or
//! reorder text on screen (bidi embeddings, overrides and isolates, zero-width
//! characters, C1 controls, private use; the set `escape` shows as `\u{XXXX}` on a
//! terminal) written as `\u202e` escapes, so a `jq` or `less` of the report cannot be
//! made to show a URI reversed or hide bytes. The JSON values are unchanged: any parser
//! reads the same strings back.
//!
//! Written by our own serializer (`fast`), byte for byte what serde_json with the former
//! `Safe` and `Pretty` formatters wrote (`legacy`, kept for the tests that compare them),
//! in about half the instructions: docs/performance.md has the figures.

mod fast;
mod key;
#[cfg(test)]
mod legacy;
mod str;
#[cfg(test)]
mod tests;

use serde::Serialize;
use std::io::{self, Write};

/// `v` as JSON appended to `out`: compact, or pretty (two spaces a level).
fn append<const PRETTY: bool, T: ?Sized + Serialize>(out: &mut Vec<u8>, v: &T) -> io::Result<()> {
    v.serialize(&mut fast::Ser::<PRETTY>::new(out))
        .map_err(io::Error::from)
}

/// `serde_json::to_writer`, with the invisible characters escaped.
pub fn to_writer<W: Write, T: ?Sized + Serialize>(mut w: W, v: &T) -> io::Result<()> {
    let mut buf = Vec::new();
    append::<false, T>(&mut buf, v)?;
    w.write_all(&buf)
}

/// `serde_json::to_writer_pretty`, with the invisible characters escaped.
pub fn to_writer_pretty<W: Write, T: ?Sized + Serialize>(mut w: W, v: &T) -> io::Result<()> {
    let mut buf = Vec::new();
    append::<true, T>(&mut buf, v)?;
    w.write_all(&buf)
}
