//! Random access to the records of a classic pcap file, for views that show one frame's
//! bytes (hex dump, stream, HTTP bodies) without keeping every byte in memory: an index of
//! record offsets (8 bytes a frame) is built once by reading only the record headers, then
//! a frame is one seek and one read. pcapng files have no such index here; callers fall
//! back to reading the file from the start.

use crate::ts::Ts;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// How a classic pcap file is laid out (its 24-byte header, read as libpcap reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub big_endian: bool,
    pub nanos: bool,
    /// The link type, without the FCS bits, as libpcap reports it (12/14 are 101).
    pub linktype: u32,
    /// The file's snapshot length: longer records are cut to it (0: none).
    pub snaplen: u32,
}

/// Record offsets of a classic pcap file, indexed by frame number - 1.
#[derive(Clone, Debug)]
pub struct Index {
    pub layout: Layout,
    pub offsets: Vec<u64>,
}

/// libpcap's MAXIMUM_SNAPLEN: a record claiming more means a damaged file, and reading
/// stops there (both the sequential reader and the index).
pub(super) const MAX_SNAPLEN: u32 = 262_144;

/// The layout of a classic pcap file from its header; None for anything else, including
/// major versions other than 2 (libpcap refuses those, with its own message).
pub(super) fn layout_of(hdr: &[u8; 24]) -> Option<Layout> {
    let magic = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
    let (big_endian, nanos) = match magic {
        0xa1b2_c3d4 => (false, false),
        0xa1b2_3c4d => (false, true),
        0xd4c3_b2a1 => (true, false),
        0x4d3c_b2a1 => (true, true),
        _ => return None,
    };
    let major = if big_endian {
        u16::from_be_bytes([hdr[4], hdr[5]])
    } else {
        u16::from_le_bytes([hdr[4], hdr[5]])
    };
    if major != 2 {
        return None;
    }
    // libpcap keeps the low 26 bits (the rest carry FCS information).
    let lt = u32_at(hdr, 20, big_endian) & 0x03FF_FFFF;
    Some(Layout {
        big_endian,
        nanos,
        linktype: super::dlt_to_linktype(lt as i32),
        snaplen: u32_at(hdr, 16, big_endian),
    })
}

/// A 32-bit field of a pcap header in the file's byte order.
pub(super) fn u32_at(b: &[u8], i: usize, be: bool) -> u32 {
    let x = [b[i], b[i + 1], b[i + 2], b[i + 3]];
    if be {
        u32::from_be_bytes(x)
    } else {
        u32::from_le_bytes(x)
    }
}

/// Build the index of a classic pcap file; None for pcapng or anything unreadable. A file
/// cut mid-record is indexed up to the cut.
pub fn index(path: &Path) -> Option<Index> {
    let mut f = BufReader::with_capacity(1 << 16, File::open(path).ok()?);
    let mut hdr = [0u8; 24];
    f.read_exact(&mut hdr).ok()?;
    let layout = layout_of(&hdr)?;
    let mut offsets = Vec::new();
    let mut off = 24u64;
    let mut rec = [0u8; 16];
    while f.read_exact(&mut rec).is_ok() {
        let caplen = u32_at(&rec, 8, layout.big_endian);
        if caplen > MAX_SNAPLEN {
            break;
        }
        offsets.push(off);
        off += 16 + u64::from(caplen);
        if f.seek_relative(i64::from(caplen)).is_err() {
            break;
        }
    }
    Some(Index { layout, offsets })
}

/// One frame's timestamp, wire length and captured bytes.
pub fn read(path: &Path, idx: &Index, frame: u64) -> Result<(Ts, u32, Vec<u8>), String> {
    let off = frame
        .checked_sub(1)
        .and_then(|i| idx.offsets.get(i as usize))
        .ok_or_else(|| format!("frame {frame} is not in the file"))?;
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    f.seek(SeekFrom::Start(*off)).map_err(|e| e.to_string())?;
    let mut rec = [0u8; 16];
    f.read_exact(&mut rec).map_err(|e| e.to_string())?;
    let be = idx.layout.big_endian;
    let secs = i64::from(u32_at(&rec, 0, be));
    let frac = i64::from(u32_at(&rec, 4, be));
    let caplen = u32_at(&rec, 8, be).min(MAX_SNAPLEN);
    let orig = u32_at(&rec, 12, be);
    let mut data = vec![0u8; caplen as usize];
    f.read_exact(&mut data).map_err(|e| e.to_string())?;
    // Like the sequential reader (and libpcap): cut to the file's snapshot length.
    if idx.layout.snaplen > 0 {
        data.truncate(idx.layout.snaplen as usize);
    }
    let nanos = if idx.layout.nanos { frac } else { frac * 1000 };
    Ok((Ts::from_parts(secs, nanos), orig, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_read_match_the_sequential_reader() {
        let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/http-get.pcap");
        let idx = index(&p).expect("classic pcap");
        let mut seen = Vec::new();
        super::super::read_source(&super::super::Source::File(p.clone()), |r| {
            seen.push((r.index, r.ts, r.orig_len, r.data.to_vec()));
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(idx.offsets.len(), seen.len());
        for (frame, ts, orig, data) in seen {
            assert_eq!(
                read(&p, &idx, frame).unwrap(),
                (ts, orig, data),
                "frame {frame}"
            );
        }
        assert!(read(&p, &idx, 0).is_err());
        assert!(read(&p, &idx, 999).is_err());
    }

    #[test]
    fn pcapng_has_no_index() {
        let hdr = [
            0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(layout_of(&hdr), None);
    }
}
