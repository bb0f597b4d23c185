//! Writing frames of a capture back out as a classic pcap file (`report -w`, the TUI's
//! `w`): the source is read again and the frames `keep` picks are copied with their
//! original bytes, captured and wire lengths, link type and nanosecond timestamps
//! (nanosecond pcap, magic `a1b23c4d`, which tcpdump, Wireshark and libpcap read).
//! Which frames belong to a connection is decided by the caller (`report::select`).

use super::{CaptureError, RawPacket, Source, read_source};
use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::Path;

/// What a write produced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Written {
    pub frames: u64,
    pub bytes: u64,
}

/// Why frames could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Read(#[from] CaptureError),
    #[error("{file}: cannot be written: {source}")]
    Io { file: String, source: io::Error },
    #[error("{file}: is the capture being read; write the frames to another file")]
    SameFile { file: String },
    #[error(
        "the frames picked have several link types ({a} and {b}): a pcap file holds one; select connections of one interface"
    )]
    MixedLinkTypes { a: String, b: String },
}

/// Copy the frames of `source` that `keep` picks (up to frame `last`, after which reading
/// stops) into `out`. The pcap's link type and snapshot length are the first picked
/// frame's (the first frame's when none is picked, giving an empty but valid file).
pub fn write_frames(
    source: &Source,
    out: &mut dyn Write,
    last: u64,
    keep: &mut dyn FnMut(&RawPacket<'_>) -> bool,
) -> Result<Written, WriteError> {
    let mut w = Written::default();
    let mut linktype: Option<u32> = None;
    let mut first_lt: Option<u32> = None;
    let mut pending: Option<WriteError> = None;
    let mut buf = Vec::new();
    let res = read_source(source, |p| {
        first_lt.get_or_insert(p.linktype);
        if p.index > last {
            return ControlFlow::Break(());
        }
        if !keep(p) {
            return ControlFlow::Continue(());
        }
        match linktype {
            None => {
                linktype = Some(p.linktype);
                header(&mut buf, p.linktype);
            }
            Some(lt) if lt != p.linktype => {
                pending = Some(WriteError::MixedLinkTypes {
                    a: super::linktype_name(lt),
                    b: super::linktype_name(p.linktype),
                });
                return ControlFlow::Break(());
            }
            Some(_) => {}
        }
        record(&mut buf, p);
        w.frames += 1;
        w.bytes += p.data.len() as u64;
        if buf.len() >= 1 << 16 {
            if let Err(e) = out.write_all(&buf) {
                pending = Some(io_err(e));
                return ControlFlow::Break(());
            }
            buf.clear();
        }
        ControlFlow::Continue(())
    });
    if let Some(e) = pending {
        return Err(e);
    }
    res?;
    if linktype.is_none() {
        header(&mut buf, first_lt.unwrap_or(1));
    }
    out.write_all(&buf).map_err(io_err)?;
    out.flush().map_err(io_err)?;
    Ok(w)
}

/// [`write_frames`] into a file (created or replaced).
pub fn write_frames_to(
    source: &Source,
    path: &Path,
    last: u64,
    keep: &mut dyn FnMut(&RawPacket<'_>) -> bool,
) -> Result<Written, WriteError> {
    let named = |e: io::Error| WriteError::Io {
        file: path.display().to_string(),
        source: e,
    };
    if let Source::File(input) = source
        && let (Ok(a), Ok(b)) = (input.canonicalize(), path.canonicalize())
        && a == b
    {
        return Err(WriteError::SameFile {
            file: path.display().to_string(),
        });
    }
    let file = std::fs::File::create(path).map_err(named)?;
    let mut out = BufWriter::new(file);
    write_frames(source, &mut out, last, keep).map_err(|e| match e {
        WriteError::Io { source, .. } => named(source),
        other => other,
    })
}

fn io_err(e: io::Error) -> WriteError {
    WriteError::Io {
        file: String::new(),
        source: e,
    }
}

/// The largest frame a record may hold: libpcap's own limit for a savefile.
const SNAPLEN: u32 = 262_144;

fn header(buf: &mut Vec<u8>, linktype: u32) {
    buf.extend_from_slice(&0xa1b2_3c4d_u32.to_le_bytes());
    buf.extend_from_slice(&2u16.to_le_bytes());
    buf.extend_from_slice(&4u16.to_le_bytes());
    buf.extend_from_slice(&0i32.to_le_bytes());
    buf.extend_from_slice(&0u32.to_le_bytes());
    buf.extend_from_slice(&SNAPLEN.to_le_bytes());
    buf.extend_from_slice(&linktype.to_le_bytes());
}

fn record(buf: &mut Vec<u8>, p: &RawPacket<'_>) {
    let secs = p.ts.0.div_euclid(1_000_000_000);
    let nanos = p.ts.0.rem_euclid(1_000_000_000);
    let data = &p.data[..p.data.len().min(SNAPLEN as usize)];
    // Times before 1970 or after 2106 do not fit a pcap record: clamped.
    buf.extend_from_slice(&(secs.clamp(0, i64::from(u32::MAX)) as u32).to_le_bytes());
    buf.extend_from_slice(&(nanos as u32).to_le_bytes());
    buf.extend_from_slice(&(data.len() as u32).to_le_bytes());
    buf.extend_from_slice(&p.orig_len.max(data.len() as u32).to_le_bytes());
    buf.extend_from_slice(data);
}
