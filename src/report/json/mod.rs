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

/// Scalar methods of a `Serializer` written once: for each `name: type`, a method taking
/// the value as `$v` that runs `$body` with the serializer as `$s`.
macro_rules! scalars {
    (|$s:ident, $v:ident| $body:expr; $($name:ident: $t:ty),* $(,)?) => {
        $(fn $name(self, $v: $t) -> Result<()> {
            let $s = self;
            $body
        })*
    };
}

/// [`scalars!`] for the ten integer methods.
macro_rules! integers {
    (|$s:ident, $v:ident| $body:expr) => {
        scalars!(|$s, $v| $body;
            serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
            serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
            serialize_u64: u64, serialize_u128: u128);
    };
}

mod fast;
mod key;
#[cfg(test)]
mod legacy;
mod str;
#[cfg(test)]
mod tests;

use serde::Serialize;
use std::cell::Cell;
use std::io::{self, Write};

/// `v` as JSON appended to `out`: compact, or pretty (two spaces a level).
fn append<const PRETTY: bool, T: ?Sized + Serialize>(out: &mut Vec<u8>, v: &T) -> io::Result<()> {
    v.serialize(&mut fast::Ser::<PRETTY>::new(out))
        .map_err(io::Error::from)
}

thread_local! {
    /// The record being written, kept between records: a buffer grown from empty for
    /// every 13 KB connection was a fifth of the writer's instructions (reallocations).
    static BUF: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// A buffer this large is not kept for the next record (memory stays bounded).
const KEEP: usize = 1 << 20;

/// `v` written whole into the thread's buffer, then to `w` in one `write_all`. On an
/// error nothing reaches `w`.
fn write<const PRETTY: bool, W: Write, T: ?Sized + Serialize>(mut w: W, v: &T) -> io::Result<()> {
    let mut buf = BUF.take();
    buf.clear();
    let done = append::<PRETTY, T>(&mut buf, v).and_then(|()| w.write_all(&buf));
    if buf.capacity() <= KEEP {
        BUF.set(buf);
    }
    done
}

/// `serde_json::to_writer`, with the invisible characters escaped.
pub fn to_writer<W: Write, T: ?Sized + Serialize>(w: W, v: &T) -> io::Result<()> {
    write::<false, W, T>(w, v)
}

/// `serde_json::to_writer_pretty`, with the invisible characters escaped.
pub fn to_writer_pretty<W: Write, T: ?Sized + Serialize>(w: W, v: &T) -> io::Result<()> {
    write::<true, W, T>(w, v)
}
