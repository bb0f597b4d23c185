//! On-demand re-reading of the capture for the Packets tab: the bytes of one frame (its
//! header tree is `decode::tree`'s), and why bytes could not be shown. A connection's
//! streams are rebuilt by `crate::stream`.
//!
//! Simple by design: the analysis keeps no packet bytes, so the file is read again (one
//! seek through the record index of a classic pcap, else up to the frame wanted; the
//! result is cached by the caller). Standard input cannot be re-read, so these views say
//! so for `-`.

use crate::capture::{self, Source};
use crate::decode::tree::{self, Field};
use crate::ts::Ts;
use std::ops::ControlFlow;

/// The captured bytes of one frame.
#[derive(Clone, Debug)]
pub struct FrameBytes {
    pub frame: u64,
    pub ts: Ts,
    pub linktype: u32,
    pub orig_len: u32,
    pub data: Vec<u8>,
}

/// Why bytes could not be shown, and what they were asked for: the frame (hex dump) or
/// the connection id (stream). A result is cached for the one thing it was read for, so a
/// failure on one packet neither hides another's bytes nor stops them being read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BytesError {
    /// The frame or connection id read; None when no bytes can be read at all (a live
    /// capture without `-w`), which answers every request.
    pub key: Option<u64>,
    pub msg: String,
}

impl BytesError {
    /// The failure of reading `key`.
    pub fn of(key: u64, msg: impl Into<String>) -> BytesError {
        BytesError {
            key: Some(key),
            msg: msg.into(),
        }
    }

    /// Whether this is the answer for `key`.
    pub fn is_for(&self, key: u64) -> bool {
        self.key.is_none_or(|k| k == key)
    }
}

/// A reason that holds for every request.
impl From<&str> for BytesError {
    fn from(msg: &str) -> BytesError {
        BytesError {
            key: None,
            msg: msg.into(),
        }
    }
}

/// A reason that holds for every request.
impl From<String> for BytesError {
    fn from(msg: String) -> BytesError {
        BytesError { key: None, msg }
    }
}

impl FrameBytes {
    /// The header tree: a line for the frame itself, then every layer of it.
    pub fn tree(&self) -> Vec<Field> {
        let mut v = vec![Field {
            depth: 0,
            text: format!(
                "Frame {}: {} bytes on wire, {} captured, linktype {}",
                self.frame,
                self.orig_len,
                self.data.len(),
                capture::linktype_name(self.linktype)
            ),
            range: Some((0, self.data.len())),
        }];
        v.extend(tree::layers(self.linktype, &self.data));
        v
    }
}

impl std::fmt::Display for BytesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

pub fn read_frame(source: &Source, frame: u64) -> Result<FrameBytes, String> {
    if matches!(source, Source::Stdin) {
        return Err("standard input cannot be read again: no bytes to show".into());
    }
    if let (Some(idx), Source::File(path)) = (crate::stream::index_of(source, frame), source) {
        let (ts, orig_len, data) = capture::random::read(path, &idx, frame)?;
        return Ok(FrameBytes {
            frame,
            ts,
            linktype: idx.layout.linktype,
            orig_len,
            data,
        });
    }
    let mut out = None;
    capture::spool::without_waiting(|| {
        capture::read_source(source, |p| {
            if p.index == frame {
                out = Some(FrameBytes {
                    frame,
                    ts: p.ts,
                    linktype: p.linktype,
                    orig_len: p.orig_len,
                    data: p.data.to_vec(),
                });
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
    })
    .map_err(|e| e.to_string())?;
    out.ok_or_else(|| format!("frame {frame} not found in the file"))
}
