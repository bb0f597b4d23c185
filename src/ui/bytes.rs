//! On-demand re-reading of the capture for the views that need raw bytes: the hex dump
//! and header tree of one frame, and the reassembled byte streams of one connection.
//!
//! Simple by design: the analysis keeps no packet bytes, so the file is read again up to
//! the frame wanted (O(frame) per request; the result is cached by the caller). Standard
//! input cannot be re-read, so these views say so for `-`.

use crate::analyze::Connection;
use crate::capture::{self, Source};
use crate::decode::{self, link};
use crate::escape::escape_bytes;
use crate::flow::Dir;
use crate::tcp::reassembly::StreamEvent;
use crate::tcp::{EngineConfig, TcpConn};
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

impl std::fmt::Display for BytesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

/// The record index of a classic pcap file, built once per file and kept (8 bytes a
/// frame), so showing a frame is one seek instead of a read from the start.
fn index_of(source: &Source, frame: u64) -> Option<std::sync::Arc<capture::random::Index>> {
    use std::sync::{Arc, Mutex};
    type Cache = Option<(std::path::PathBuf, Option<Arc<capture::random::Index>>)>;
    static CACHE: Mutex<Cache> = Mutex::new(None);
    let Source::File(path) = source else {
        return None;
    };
    let mut c = CACHE.lock().ok()?;
    if let Some((p, idx)) = c.as_ref()
        && p == path
        // A spool of standard input grows: index it again for frames beyond the index.
        && (idx.as_ref().is_none_or(|i| i.offsets.len() as u64 >= frame)
            || capture::spool::spool_state(path).is_none())
    {
        return idx.clone();
    }
    let idx = capture::random::index(path).map(Arc::new);
    *c = Some((path.clone(), idx.clone()));
    idx
}

pub fn read_frame(source: &Source, frame: u64) -> Result<FrameBytes, String> {
    if matches!(source, Source::Stdin) {
        return Err("standard input cannot be read again: no bytes to show".into());
    }
    if let (Some(idx), Source::File(path)) = (index_of(source, frame), source) {
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

/// One line of the header tree; `range` is the bytes it covers (for the hex highlight).
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub depth: u8,
    pub text: String,
    pub range: Option<(usize, usize)>,
}

fn field(v: &mut Vec<Field>, depth: u8, text: String, at: usize, len: usize) {
    v.push(Field {
        depth,
        text,
        range: Some((at, len)),
    });
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *d.get(at)?,
        *d.get(at + 1)?,
        *d.get(at + 2)?,
        *d.get(at + 3)?,
    ]))
}

fn mac(d: &[u8]) -> String {
    d.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Every layer and field of a frame, with byte ranges. Never panics on short input: it
/// stops where the bytes end.
pub fn header_tree(fb: &FrameBytes) -> Vec<Field> {
    let d = &fb.data[..];
    let mut v = Vec::new();
    v.push(Field {
        depth: 0,
        text: format!(
            "Frame {}: {} bytes on wire, {} captured, linktype {}",
            fb.frame,
            fb.orig_len,
            d.len(),
            capture::linktype_name(fb.linktype)
        ),
        range: Some((0, d.len())),
    });
    let base = d.as_ptr() as usize;
    let (ip_at, ethertype) = match link::strip(fb.linktype, d) {
        link::Link::Ethernet(_) => {
            if d.len() < 14 {
                return v;
            }
            field(&mut v, 0, "Ethernet II".into(), 0, 14);
            field(&mut v, 1, format!("Destination: {}", mac(&d[0..6])), 0, 6);
            field(&mut v, 1, format!("Source: {}", mac(&d[6..12])), 6, 6);
            let mut at = 12;
            let mut et = be16(d, at).unwrap_or(0);
            while (et == 0x8100 || et == 0x88a8) && d.len() >= at + 6 {
                let tci = be16(d, at + 2).unwrap_or(0);
                field(&mut v, 1, format!("VLAN tag: id {}", tci & 0x0fff), at, 4);
                at += 4;
                et = be16(d, at).unwrap_or(0);
            }
            field(&mut v, 1, format!("Type: 0x{et:04x}"), at, 2);
            (at + 2, Some(et))
        }
        link::Link::EtherType(et, rest) => {
            let off = rest.as_ptr() as usize - base;
            field(
                &mut v,
                0,
                format!("Link header (EtherType 0x{et:04x})"),
                0,
                off,
            );
            (off, Some(et))
        }
        link::Link::Ip(rest) => {
            let off = rest.as_ptr() as usize - base;
            if off > 0 {
                field(&mut v, 0, "Link header".into(), 0, off);
            }
            (off, None)
        }
        _ => return v,
    };
    let version = d.get(ip_at).map(|b| b >> 4);
    let tcp_at = match (ethertype, version) {
        (Some(0x0800) | None, Some(4)) => ipv4(d, ip_at, &mut v),
        (Some(0x86dd) | None, Some(6)) => ipv6(d, ip_at, &mut v),
        _ => None,
    };
    if let Some(t) = tcp_at {
        tcp(d, t, &mut v);
    }
    v
}

fn ipv4(d: &[u8], at: usize, v: &mut Vec<Field>) -> Option<usize> {
    let ihl = usize::from(d.get(at)? & 0x0f) * 4;
    if ihl < 20 || d.len() < at + 20 {
        return None;
    }
    field(
        v,
        0,
        "Internet Protocol version 4".into(),
        at,
        ihl.min(d.len() - at),
    );
    field(
        v,
        1,
        format!("Version: 4, header length: {ihl} bytes"),
        at,
        1,
    );
    field(v, 1, format!("DSCP/ECN: 0x{:02x}", d[at + 1]), at + 1, 1);
    field(
        v,
        1,
        format!("Total length: {}", be16(d, at + 2)?),
        at + 2,
        2,
    );
    field(
        v,
        1,
        format!("Identification: 0x{:04x}", be16(d, at + 4)?),
        at + 4,
        2,
    );
    let ff = be16(d, at + 6)?;
    field(
        v,
        1,
        format!(
            "Flags: {}{}, fragment offset: {}",
            if ff & 0x4000 != 0 { "DF" } else { "-" },
            if ff & 0x2000 != 0 { " MF" } else { "" },
            (ff & 0x1fff) * 8
        ),
        at + 6,
        2,
    );
    field(v, 1, format!("Time to live: {}", d[at + 8]), at + 8, 1);
    field(v, 1, format!("Protocol: {}", d[at + 9]), at + 9, 1);
    field(
        v,
        1,
        format!("Header checksum: 0x{:04x}", be16(d, at + 10)?),
        at + 10,
        2,
    );
    let ip = |o: usize| format!("{}.{}.{}.{}", d[o], d[o + 1], d[o + 2], d[o + 3]);
    field(v, 1, format!("Source: {}", ip(at + 12)), at + 12, 4);
    field(v, 1, format!("Destination: {}", ip(at + 16)), at + 16, 4);
    if ihl > 20 && d.len() >= at + ihl {
        field(
            v,
            1,
            format!("Options: {} bytes", ihl - 20),
            at + 20,
            ihl - 20,
        );
    }
    (d[at + 9] == 6 && ff & 0x1fff == 0).then_some(at + ihl)
}

fn ipv6(d: &[u8], at: usize, v: &mut Vec<Field>) -> Option<usize> {
    if d.len() < at + 40 {
        return None;
    }
    field(v, 0, "Internet Protocol version 6".into(), at, 40);
    let w = be32(d, at)?;
    field(
        v,
        1,
        format!(
            "Version: 6, traffic class: 0x{:02x}, flow label: 0x{:05x}",
            (w >> 20) & 0xff,
            w & 0xfffff
        ),
        at,
        4,
    );
    field(
        v,
        1,
        format!("Payload length: {}", be16(d, at + 4)?),
        at + 4,
        2,
    );
    field(v, 1, format!("Next header: {}", d[at + 6]), at + 6, 1);
    field(v, 1, format!("Hop limit: {}", d[at + 7]), at + 7, 1);
    let addr = |o: usize| {
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[o..o + 16]);
        std::net::Ipv6Addr::from(b).to_string()
    };
    field(v, 1, format!("Source: {}", addr(at + 8)), at + 8, 16);
    field(v, 1, format!("Destination: {}", addr(at + 24)), at + 24, 16);
    ipv6_extensions(d, d[at + 6], at + 40, v)
}

/// The name of an IPv6 extension header, None for an upper-layer protocol.
fn ipv6_extension_name(next: u8) -> Option<&'static str> {
    Some(match next {
        0 => "Hop-by-Hop Options",
        43 => "Routing",
        44 => "Fragment",
        51 => "Authentication Header",
        60 => "Destination Options",
        135 => "Mobility",
        139 => "Host Identity Protocol",
        140 => "Shim6",
        _ => return None,
    })
}

/// Unfold the extension headers from `at` (RFC 8200 order, each with its own length
/// rule); the offset of the TCP header if the chain ends in TCP and this is not a
/// non-first fragment. Stops where the bytes end.
fn ipv6_extensions(d: &[u8], mut next: u8, mut at: usize, v: &mut Vec<Field>) -> Option<usize> {
    let mut first_fragment = true;
    // Every extension header is at least 8 bytes, so the bytes bound the loop; the count
    // bounds it too.
    for _ in 0..32 {
        let Some(name) = ipv6_extension_name(next) else {
            break;
        };
        let (nh, b1) = (*d.get(at)?, *d.get(at + 1)?);
        let len = match next {
            44 => 8,
            51 => (usize::from(b1) + 2) * 4,
            _ => (usize::from(b1) + 1) * 8,
        };
        let shown = len.min(d.len().saturating_sub(at));
        field(
            v,
            0,
            format!("IPv6 extension: {name} ({len} bytes)"),
            at,
            shown,
        );
        field(v, 1, format!("Next header: {nh}"), at, 1);
        match next {
            44 => {
                let off_m = be16(d, at + 2)?;
                let offset = usize::from(off_m >> 3) * 8;
                field(
                    v,
                    1,
                    format!(
                        "Fragment offset: {offset}{}",
                        if off_m & 1 != 0 {
                            ", more fragments"
                        } else {
                            ""
                        }
                    ),
                    at + 2,
                    2,
                );
                field(
                    v,
                    1,
                    format!("Identification: 0x{:08x}", be32(d, at + 4)?),
                    at + 4,
                    4,
                );
                first_fragment &= offset == 0;
            }
            51 => field(
                v,
                1,
                format!("Payload length: {b1} (in 4-byte units, minus 2)"),
                at + 1,
                1,
            ),
            43 => {
                field(
                    v,
                    1,
                    format!("Length: {b1} (8-byte units after the first 8)"),
                    at + 1,
                    1,
                );
                if let (Some(t), Some(left)) = (d.get(at + 2), d.get(at + 3)) {
                    field(
                        v,
                        1,
                        format!("Routing type: {t}, segments left: {left}"),
                        at + 2,
                        2,
                    );
                }
            }
            _ => field(
                v,
                1,
                format!("Length: {b1} (8-byte units after the first 8)"),
                at + 1,
                1,
            ),
        }
        if d.len() < at + len {
            return None;
        }
        next = nh;
        at += len;
    }
    (next == 6 && first_fragment).then_some(at)
}

fn tcp(d: &[u8], at: usize, v: &mut Vec<Field>) {
    if d.len() < at + 20 {
        return;
    }
    let off = usize::from(d[at + 12] >> 4) * 4;
    field(
        v,
        0,
        "Transmission Control Protocol".into(),
        at,
        off.max(20).min(d.len() - at),
    );
    let g16 = |o| be16(d, at + o).unwrap_or(0);
    let g32 = |o| be32(d, at + o).unwrap_or(0);
    field(v, 1, format!("Source port: {}", g16(0)), at, 2);
    field(v, 1, format!("Destination port: {}", g16(2)), at + 2, 2);
    field(
        v,
        1,
        format!("Sequence number (raw): {}", g32(4)),
        at + 4,
        4,
    );
    field(
        v,
        1,
        format!("Acknowledgment number (raw): {}", g32(8)),
        at + 8,
        4,
    );
    field(v, 1, format!("Header length: {off} bytes"), at + 12, 1);
    let flags = crate::decode::TcpFlags(g16(12) & 0x1ff);
    field(
        v,
        1,
        format!("Flags: 0x{:03x} ({flags})", flags.0),
        at + 12,
        2,
    );
    field(v, 1, format!("Window: {}", g16(14)), at + 14, 2);
    field(v, 1, format!("Checksum: 0x{:04x}", g16(16)), at + 16, 2);
    field(v, 1, format!("Urgent pointer: {}", g16(18)), at + 18, 2);
    if off > 20 && d.len() >= at + off {
        field(
            v,
            1,
            format!("Options: {} bytes", off - 20),
            at + 20,
            off - 20,
        );
        let mut o = at + 20;
        let end = at + off;
        while o < end {
            let kind = d[o];
            let (len, text) = match kind {
                0 => (1, "End of option list".to_string()),
                1 => (1, "No-Operation".to_string()),
                _ => {
                    let Some(&l) = d.get(o + 1) else { break };
                    let l = usize::from(l);
                    if l < 2 || o + l > end {
                        field(v, 2, format!("Malformed option kind {kind}"), o, end - o);
                        break;
                    }
                    let body = &d[o + 2..o + l];
                    let t = match (kind, body.len()) {
                        (2, 2) => format!("Maximum segment size: {}", be16(body, 0).unwrap_or(0)),
                        (3, 1) => format!(
                            "Window scale: {} (multiply by {})",
                            body[0],
                            1u64 << body[0].min(14)
                        ),
                        (4, 0) => "SACK permitted".to_string(),
                        (5, _) => {
                            let blocks: Vec<String> = body
                                .chunks_exact(8)
                                .map(|c| {
                                    format!(
                                        "{}-{}",
                                        be32(c, 0).unwrap_or(0),
                                        be32(c, 4).unwrap_or(0)
                                    )
                                })
                                .collect();
                            format!("SACK: {}", blocks.join(" "))
                        }
                        (8, 8) => format!(
                            "Timestamps: TSval {}, TSecr {}",
                            be32(body, 0).unwrap_or(0),
                            be32(body, 4).unwrap_or(0)
                        ),
                        _ => format!("Option kind {kind}, {} bytes", l),
                    };
                    (l, t)
                }
            };
            field(v, 2, text, o, len);
            o += len;
        }
    }
    let pay = at + off;
    if off >= 20 && d.len() > pay {
        field(
            v,
            0,
            format!("Payload: {} bytes", d.len() - pay),
            pay,
            d.len() - pay,
        );
    }
}

/// A piece of a reassembled stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    Data(Vec<u8>),
    Gap(u64),
}

/// One display line of the stream view.
#[derive(Clone, Debug)]
pub struct StreamLine {
    pub dir: Dir,
    /// The frame whose bytes completed this line (for the playhead).
    pub frame: u64,
    /// Escaped text, or the gap notice.
    pub text: String,
    pub gap: bool,
}

#[derive(Clone, Debug, Default)]
pub struct StreamData {
    pub conn_id: u64,
    pub lines: Vec<StreamLine>,
    pub bytes: [u64; 2],
    /// Stopped at the byte cap.
    pub truncated: bool,
    /// The connection's HTTP exchanges parsed again with their bodies (the analysis run
    /// keeps sizes and hashes only, so opening a big file costs no body memory).
    pub http: Vec<crate::http::Exchange>,
}

const WRAP: usize = 200;

/// Rebuild both byte streams of `conn` by feeding its frames through a fresh TCP engine
/// (so gaps, retransmissions and overlaps are handled exactly as in the analysis).
pub fn rebuild_stream(source: &Source, conn: &Connection, cap: u64) -> Result<StreamData, String> {
    if matches!(source, Source::Stdin) {
        return Err("standard input cannot be read again: the stream cannot be rebuilt".into());
    }
    let mut pieces: Vec<(Dir, u64, Piece)> = Vec::new();
    let mut tcp = TcpConn::new(EngineConfig::default());
    let mut http = crate::http::HttpAssembler::new(crate::http::HttpConfig::default());
    let mut total = 0u64;
    let mut truncated = false;
    let (first, last) = (conn.first_frame, conn.last_frame);
    let mut sink = |dir: Dir, ev: StreamEvent<'_>| match ev {
        StreamEvent::Data { bytes, frame, .. } => {
            http.push(dir, bytes, frame, 0);
            if total >= cap {
                truncated = true;
                return;
            }
            let take = bytes.len().min((cap - total) as usize);
            total += take as u64;
            pieces.push((dir, frame, Piece::Data(bytes[..take].to_vec())));
        }
        StreamEvent::Gap { len, .. } => {
            http.gap(dir, len);
            pieces.push((dir, 0, Piece::Gap(len)))
        }
    };
    let mut cur_frame = 0u64;
    let mut fins: Vec<(Dir, u64)> = Vec::new();
    let mut feed = |p: &capture::RawPacket<'_>| {
        if p.index < first {
            return ControlFlow::Continue(());
        }
        if p.index > last {
            return ControlFlow::Break(());
        }
        cur_frame = p.index;
        let dd = decode::decode(p.linktype, p.data, p.orig_len);
        let (Some(ip), Some(seg)) = (dd.ip, dd.tcp.as_ref()) else {
            return ControlFlow::Continue(());
        };
        if seg.partial_header {
            return ControlFlow::Continue(());
        }
        let (src, dst) = crate::flow::endpoints(&ip, seg);
        let dir = if src == conn.client && dst == conn.server {
            Dir::Client
        } else if src == conn.server && dst == conn.client {
            Dir::Server
        } else {
            return ControlFlow::Continue(());
        };
        tcp.on_segment(dir, seg, p.index, p.ts, &mut sink);
        if seg.flags.fin() && tcp.fin_in_order(dir) {
            fins.push((dir, p.index));
        }
        ControlFlow::Continue(())
    };
    let frames = conn
        .summary
        .as_ref()
        .and_then(|s| s.packets.as_ref())
        .filter(|p| {
            !p.is_empty()
                && conn
                    .summary
                    .as_ref()
                    .is_some_and(|s| s.packets_not_kept == 0)
        });
    let last = frames.and_then(|p| p.iter().map(|r| r.frame).max());
    match (index_of(source, last.unwrap_or(0)), source, frames) {
        // Seek to each of the connection's frames.
        (Some(idx), Source::File(path), Some(pk)) => {
            for rec in pk {
                let (ts, orig_len, data) = capture::random::read(path, &idx, rec.frame)?;
                let raw = capture::RawPacket {
                    index: rec.frame,
                    ts,
                    linktype: idx.layout.linktype,
                    orig_len,
                    data: &data,
                };
                if feed(&raw).is_break() {
                    break;
                }
            }
        }
        _ => {
            // What is in the file now: a spool of standard input is not waited for.
            capture::spool::without_waiting(|| capture::read_source(source, |p| feed(p)))
                .map_err(|e| e.to_string())?;
        }
    }
    tcp.finish(&mut sink);
    // Close-delimited bodies end at the FIN; it is fed after the bytes (order within a
    // direction is all that matters to the assembler).
    for (dir, frame) in fins {
        http.fin(dir, frame, 0);
    }
    http.finish();
    // Gaps carry no frame: give them the frame of the data before them.
    let mut prev = first;
    for x in pieces.iter_mut() {
        if x.1 == 0 {
            x.1 = prev;
        } else {
            prev = x.1;
        }
    }
    let mut out = StreamData {
        conn_id: conn.id,
        truncated,
        http: http.into_exchanges(),
        ..Default::default()
    };
    let mut prev_dir: Option<Dir> = None;
    for (dir, frame, piece) in pieces {
        match piece {
            Piece::Gap(n) => {
                out.lines.push(StreamLine {
                    dir,
                    frame,
                    text: format!("[gap: {n} bytes not captured]"),
                    gap: true,
                });
                prev_dir = None;
            }
            Piece::Data(b) => {
                out.bytes[dir.idx()] += b.len() as u64;
                // CRLF line ends read as plain line ends here; a lone CR stays visible.
                let text = escape_bytes(&b, true).replace("\\r\n", "\n");
                let body = text.strip_suffix('\n').unwrap_or(&text);
                for (k, part) in body.split('\n').enumerate() {
                    let append = k == 0 && prev_dir == Some(dir);
                    push_wrapped(&mut out.lines, dir, frame, part, append);
                }
                // A chunk ending in a newline ends its line.
                prev_dir = if text.ends_with('\n') {
                    None
                } else {
                    Some(dir)
                };
            }
        }
    }
    Ok(out)
}

/// Add `s` as a new line (or to the end of the last one), wrapping at `WRAP` chars.
fn push_wrapped(lines: &mut Vec<StreamLine>, dir: Dir, frame: u64, s: &str, append: bool) {
    let mut rest: String = s.to_string();
    if append && let Some(last) = lines.last_mut() {
        let room = WRAP.saturating_sub(last.text.chars().count());
        let head: String = rest.chars().take(room).collect();
        let n = head.len();
        last.text.push_str(&head);
        last.frame = frame;
        rest = rest[n..].to_string();
        if rest.is_empty() {
            return;
        }
    }
    loop {
        let head: String = rest.chars().take(WRAP).collect();
        let n = head.len();
        lines.push(StreamLine {
            dir,
            frame,
            text: head,
            gap: false,
        });
        rest = rest[n..].to_string();
        if rest.is_empty() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ethernet, IPv6 with Hop-by-Hop, Destination Options and Fragment headers, then a
    /// 20-byte TCP header (ports 40000 → 80, SYN).
    fn ipv6_with_extensions(fragment_offset: u16) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x86, 0xdd];
        let tcp_len = 20u16;
        let ext_len = 8 + 8 + 8;
        f.extend([0x60, 0, 0, 0]);
        f.extend((ext_len + tcp_len).to_be_bytes());
        f.extend([0, 64]); // next: Hop-by-Hop, hop limit
        f.extend([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        f.extend([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        f.extend([60, 0, 1, 4, 0, 0, 0, 0]); // HBH -> DestOpts, PadN
        f.extend([44, 0, 1, 4, 0, 0, 0, 0]); // DestOpts -> Fragment, PadN
        f.extend([6, 0]); // Fragment -> TCP
        f.extend(((fragment_offset / 8) << 3).to_be_bytes());
        f.extend(0x1234_5678u32.to_be_bytes());
        f.extend(40000u16.to_be_bytes());
        f.extend(80u16.to_be_bytes());
        f.extend(1000u32.to_be_bytes());
        f.extend(0u32.to_be_bytes());
        f.extend([0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
        f
    }

    fn tree(data: Vec<u8>) -> Vec<String> {
        let fb = FrameBytes {
            frame: 1,
            ts: Ts::default(),
            linktype: 1,
            orig_len: data.len() as u32,
            data,
        };
        header_tree(&fb).into_iter().map(|f| f.text).collect()
    }

    #[test]
    fn ipv6_extension_headers_are_unfolded_down_to_tcp() {
        let data = ipv6_with_extensions(0);
        // The decoder finds the same TCP segment behind the same chain.
        let dec = crate::decode::decode(1, &data, data.len() as u32);
        let seg = dec.tcp.as_ref().expect("decoder finds TCP");
        assert_eq!((seg.src_port, seg.dst_port), (40000, 80));
        let t = tree(data);
        let pos = |s: &str| {
            t.iter()
                .position(|l| l.contains(s))
                .unwrap_or_else(|| panic!("no {s:?} in {t:#?}"))
        };
        let order = [
            pos("Internet Protocol version 6"),
            pos("IPv6 extension: Hop-by-Hop Options (8 bytes)"),
            pos("IPv6 extension: Destination Options (8 bytes)"),
            pos("IPv6 extension: Fragment (8 bytes)"),
            pos("Transmission Control Protocol"),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{t:#?}");
        assert!(
            t.iter().any(|l| l == "Identification: 0x12345678"),
            "{t:#?}"
        );
        assert!(t.iter().any(|l| l == "Source port: 40000"), "{t:#?}");
        assert!(t.iter().any(|l| l == "Destination port: 80"), "{t:#?}");
    }

    #[test]
    fn later_fragment_has_no_tcp_and_cut_chains_stop_quietly() {
        let t = tree(ipv6_with_extensions(1448));
        assert!(t.iter().any(|l| l == "Fragment offset: 1448"), "{t:#?}");
        assert!(
            !t.iter().any(|l| l.contains("Transmission Control")),
            "{t:#?}"
        );
        let full = ipv6_with_extensions(0);
        for cut in 54..full.len() {
            let t = tree(full[..cut].to_vec());
            assert!(
                !t.iter().any(|l| l.contains("Source port")),
                "cut {cut}: {t:#?}"
            );
        }
    }

    proptest::proptest! {
        /// Any bytes, on any of the common link types, give a tree without a panic, and
        /// every highlighted range lies inside the frame.
        #[test]
        fn any_bytes_give_a_tree_within_the_frame(
            linktype in proptest::sample::select(vec![0u32, 1, 101, 113, 276, 228, 229]),
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        ) {
            let len = data.len();
            let fb = FrameBytes { frame: 1, ts: Ts::default(), linktype, orig_len: len as u32, data };
            for f in header_tree(&fb) {
                if let Some((at, n)) = f.range {
                    proptest::prop_assert!(at + n <= len, "{} at {at}+{n} of {len}", f.text);
                }
            }
        }

        /// The same for IPv6 frames with an extension-header chain of random contents.
        #[test]
        fn random_ipv6_extension_chains_stay_within_the_frame(
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..120),
            next in proptest::sample::select(vec![0u8, 43, 44, 51, 60, 135, 139, 140, 6, 59]),
        ) {
            let mut data = ipv6_with_extensions(0)[..54].to_vec();
            data[20] = next;
            data.extend(tail);
            let len = data.len();
            let fb = FrameBytes { frame: 1, ts: Ts::default(), linktype: 1, orig_len: len as u32, data };
            for f in header_tree(&fb) {
                if let Some((at, n)) = f.range {
                    proptest::prop_assert!(at + n <= len, "{} at {at}+{n} of {len}", f.text);
                }
            }
        }
    }
}
