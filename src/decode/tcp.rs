//! The TCP header and its options.
//!
//! etherparse reads complete headers; a header cut short by the snapshot length is read
//! here as far as it goes (ports, then sequence number, ...) so the packet still counts
//! for its connection. Options are decoded here so that unknown kinds are kept raw.

use super::DecodeError;
use etherparse::TcpSlice;

/// TCP flags as the 9 bits of the header (NS..FIN).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const NS: u16 = 0x100;

    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
    pub fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    pub fn ack(self) -> bool {
        self.has(Self::ACK)
    }
    pub fn fin(self) -> bool {
        self.has(Self::FIN)
    }
    pub fn rst(self) -> bool {
        self.has(Self::RST)
    }
    pub fn psh(self) -> bool {
        self.has(Self::PSH)
    }
}

impl std::fmt::Display for TcpFlags {
    /// Wireshark-style list: `SYN, ACK`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const NAMES: [(u16, &str); 9] = [
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::FIN, "FIN"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::PSH, "PSH"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::URG, "URG"),
            (TcpFlags::ECE, "ECE"),
            (TcpFlags::CWR, "CWR"),
            (TcpFlags::NS, "NS"),
        ];
        let mut first = true;
        for (bit, name) in NAMES {
            if self.has(bit) {
                if !first {
                    f.write_str(", ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("<none>")?;
        }
        Ok(())
    }
}

/// Decoded TCP options. At most four SACK blocks fit in a header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    pub sack: [(u32, u32); 4],
    pub sack_count: u8,
    /// (TSval, TSecr)
    pub timestamps: Option<(u32, u32)>,
    /// Options of other kinds, (kind, value) as captured.
    pub unknown: Vec<(u8, Vec<u8>)>,
    /// The option list ran past the header or had a bad length.
    pub malformed: bool,
    /// The snapshot length cut the option list: the options read are the captured ones.
    pub truncated: bool,
}

impl TcpOptions {
    pub fn sack_blocks(&self) -> &[(u32, u32)] {
        &self.sack[..usize::from(self.sack_count).min(4)]
    }
}

/// One TCP segment as captured.
#[derive(Clone, Debug)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// Header length in 32-bit words.
    pub data_offset: u8,
    pub options: TcpOptions,
    /// The payload bytes that were captured.
    pub payload: &'a [u8],
    /// Payload length on the wire according to the IP header (>= payload.len()).
    pub payload_len: u32,
    /// Header or payload cut short by the snapshot length.
    pub truncated: bool,
    /// Only some header fields were captured: ports are valid, `header_fields` says how many
    /// leading bytes of the header are (4: ports, 8: +seq, 12: +ack, 14: +flags, 16: +window).
    pub partial_header: bool,
    pub header_fields: u8,
}

/// Parse a TCP header from `d` (the IP payload as captured); `claimed` is the IP payload
/// length the IP header declares.
pub fn parse(d: &[u8], claimed: usize) -> Result<TcpSegment<'_>, DecodeError> {
    match TcpSlice::from_slice(d) {
        Ok(t) => {
            let payload = t.payload();
            let hdr_len = usize::from(t.data_offset()) * 4;
            let wire = claimed.saturating_sub(hdr_len).max(payload.len());
            Ok(TcpSegment {
                src_port: t.source_port(),
                dst_port: t.destination_port(),
                seq: t.sequence_number(),
                ack: t.acknowledgment_number(),
                flags: flags_of(&t),
                window: t.window_size(),
                data_offset: t.data_offset(),
                options: parse_options(t.options()),
                payload,
                payload_len: u32::try_from(wire).unwrap_or(u32::MAX),
                truncated: wire > payload.len(),
                partial_header: false,
                header_fields: 20,
            })
        }
        Err(_) => partial(d, claimed),
    }
}

fn flags_of(t: &TcpSlice<'_>) -> TcpFlags {
    let mut f = 0u16;
    for (on, bit) in [
        (t.fin(), TcpFlags::FIN),
        (t.syn(), TcpFlags::SYN),
        (t.rst(), TcpFlags::RST),
        (t.psh(), TcpFlags::PSH),
        (t.ack(), TcpFlags::ACK),
        (t.urg(), TcpFlags::URG),
        (t.ece(), TcpFlags::ECE),
        (t.cwr(), TcpFlags::CWR),
        (t.ns(), TcpFlags::NS),
    ] {
        if on {
            f |= bit;
        }
    }
    TcpFlags(f)
}

/// A header etherparse refused: cut short, or a data offset below 5 / past the packet.
fn partial(d: &[u8], claimed: usize) -> Result<TcpSegment<'_>, DecodeError> {
    if d.len() < 4 {
        return Err(DecodeError::Short {
            layer: "TCP",
            have: d.len(),
            need: 20,
        });
    }
    let be16 = |i: usize| d.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let be32 = |i: usize| {
        d.get(i..i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    if d.len() >= 20 {
        let off = d[12] >> 4;
        if off < 5 {
            return Err(DecodeError::BadDataOffset(off));
        }
        // Data offset points past the captured bytes: if the packet was also cut by the
        // snapshot length this is truncation, otherwise the header is malformed.
        if usize::from(off) * 4 > claimed {
            return Err(DecodeError::Malformed {
                layer: "TCP",
                detail: format!(
                    "data offset {off} ({} bytes) runs past the {claimed}-byte segment",
                    usize::from(off) * 4
                ),
            });
        }
    }
    // The fixed 20-byte header is whole and only the options were cut by the snapshot
    // length: every field is trustworthy, so this is a segment like any other, with the
    // options that were captured and a note that the rest are missing.
    if d.len() >= 20 {
        let off = usize::from(d[12] >> 4) * 4;
        let mut options = parse_options(d.get(20..off.min(d.len())).unwrap_or(&[]));
        options.malformed = false;
        options.truncated = true;
        return Ok(TcpSegment {
            src_port: be16(0).unwrap_or(0),
            dst_port: be16(2).unwrap_or(0),
            seq: be32(4).unwrap_or(0),
            ack: be32(8).unwrap_or(0),
            flags: TcpFlags(u16::from_be_bytes([d[12], d[13]]) & 0x01FF),
            window: be16(14).unwrap_or(0),
            data_offset: d[12] >> 4,
            options,
            payload: &[],
            payload_len: u32::try_from(claimed.saturating_sub(off)).unwrap_or(u32::MAX),
            truncated: true,
            partial_header: false,
            header_fields: 20,
        });
    }
    let fields = d.len().min(20) as u8;
    let flags = d
        .get(12..14)
        .map(|b| TcpFlags(u16::from_be_bytes([b[0], b[1]]) & 0x01FF))
        .unwrap_or_default();
    let data_offset = d.get(12).map(|b| b >> 4).unwrap_or(5).max(5);
    let wire = claimed.saturating_sub(usize::from(data_offset) * 4);
    Ok(TcpSegment {
        src_port: be16(0).unwrap_or(0),
        dst_port: be16(2).unwrap_or(0),
        seq: be32(4).unwrap_or(0),
        ack: be32(8).unwrap_or(0),
        flags,
        window: be16(14).unwrap_or(0),
        data_offset,
        options: TcpOptions::default(),
        payload: &[],
        payload_len: u32::try_from(wire).unwrap_or(u32::MAX),
        truncated: true,
        partial_header: true,
        header_fields: fields,
    })
}

/// Decode the option list. Malformed lists are flagged, never fatal.
pub fn parse_options(mut o: &[u8]) -> TcpOptions {
    let mut out = TcpOptions::default();
    while let Some((&kind, rest)) = o.split_first() {
        match kind {
            0 => break,
            1 => {
                o = rest;
                continue;
            }
            _ => {}
        }
        let Some((&len, _)) = rest.split_first() else {
            out.malformed = true;
            break;
        };
        let len = usize::from(len);
        if len < 2 || len > o.len() {
            out.malformed = true;
            break;
        }
        let val = &o[2..len];
        match (kind, val.len()) {
            (2, 2) => out.mss = Some(u16::from_be_bytes([val[0], val[1]])),
            (3, 1) => out.wscale = Some(val[0]),
            (4, 0) => out.sack_perm = true,
            (5, n) if n % 8 == 0 && n > 0 => {
                for chunk in val.chunks_exact(8) {
                    // Four blocks at most, over all SACK options of the segment.
                    let Some(slot) = out.sack.get_mut(usize::from(out.sack_count)) else {
                        break;
                    };
                    let l = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                    let r = u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
                    *slot = (l, r);
                    out.sack_count += 1;
                }
            }
            (8, 8) => {
                out.timestamps = Some((
                    u32::from_be_bytes([val[0], val[1], val[2], val[3]]),
                    u32::from_be_bytes([val[4], val[5], val[6], val[7]]),
                ))
            }
            (2..=5 | 8, _) => out.malformed = true,
            _ => {
                if out.unknown.len() < 8 {
                    out.unknown.push((kind, val.to_vec()));
                }
            }
        }
        o = &o[len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_all_kinds() {
        let opts = [
            2, 4, 0x05, 0xb4, // MSS 1460
            1, 3, 3, 7, // NOP, WS 7
            4, 2, // SACK-permitted
            8, 10, 0, 0, 0, 1, 0, 0, 0, 2, // TS 1 2
            5, 10, 0, 0, 0, 10, 0, 0, 0, 20, // SACK 10-20
            19, 4, 0xAA, 0xBB, // unknown kind (MD5 sig shortened)
            0,
        ];
        let o = parse_options(&opts);
        assert_eq!(o.mss, Some(1460));
        assert_eq!(o.wscale, Some(7));
        assert!(o.sack_perm);
        assert_eq!(o.timestamps, Some((1, 2)));
        assert_eq!(o.sack_blocks(), &[(10, 20)]);
        assert_eq!(o.unknown, vec![(19, vec![0xAA, 0xBB])]);
        assert!(!o.malformed);
    }

    #[test]
    fn options_bad_length_flagged_not_fatal() {
        assert!(parse_options(&[2, 40, 1]).malformed);
        assert!(parse_options(&[2, 0]).malformed);
        assert!(parse_options(&[3]).malformed);
    }

    #[test]
    fn header_cut_after_ports_keeps_ports() {
        let hdr = [0x1f, 0x90, 0x00, 0x50, 0, 0, 0, 1, 0];
        let s = parse(&hdr, 40).unwrap();
        assert_eq!((s.src_port, s.dst_port), (8080, 80));
        assert!(s.partial_header && s.truncated);
        assert_eq!(s.header_fields, 9);
    }

    /// A SYN whose fixed header is whole but whose options the snapshot length cut (a
    /// headers-only capture): still a SYN, with the options captured and a mark.
    #[test]
    fn options_cut_by_snaplen_keep_the_segment() {
        let mut hdr = vec![0x9c, 0x40, 0x00, 0x50, 0, 0, 0x10, 0, 0, 0, 0, 0];
        hdr.extend_from_slice(&[10 << 4, 0x02, 0xff, 0xff, 0, 0, 0, 0]); // offset 40 B, SYN
        hdr.extend_from_slice(&[2, 4, 0x05, 0xb4, 4, 2, 8, 10]); // MSS, SACK-perm, TS cut
        let s = parse(&hdr, 40).unwrap();
        assert!(!s.partial_header && s.truncated && s.options.truncated);
        assert!(s.flags.syn() && !s.flags.ack());
        assert_eq!((s.seq, s.window), (0x1000, 0xffff));
        assert_eq!(s.options.mss, Some(1460));
        assert!(s.options.sack_perm && !s.options.malformed);
        assert_eq!(s.payload_len, 0);
        // The announced payload of a cut data segment counts from the IP length.
        let s = parse(&hdr, 40 + 1448).unwrap();
        assert_eq!(s.payload_len, 1448);
    }

    #[test]
    fn data_offset_below_five_is_an_error() {
        let mut hdr = [0u8; 20];
        hdr[12] = 4 << 4;
        assert_eq!(parse(&hdr, 20).unwrap_err(), DecodeError::BadDataOffset(4));
    }

    #[test]
    fn too_short_for_ports() {
        assert!(matches!(parse(&[1, 2], 20), Err(DecodeError::Short { .. })));
    }

    /// Several SACK options in one (oversized) option list: at most four blocks in all,
    /// never an index past the array.
    #[test]
    fn sack_blocks_stop_at_four_over_all_options() {
        let mut o = Vec::new();
        for k in 0..3u32 {
            o.extend([5u8, 2 + 16]);
            for b in [k * 10, k * 10 + 1, k * 10 + 2, k * 10 + 3] {
                o.extend(b.to_be_bytes());
            }
        }
        let opts = parse_options(&o);
        assert_eq!(opts.sack_count, 4);
        assert_eq!(opts.sack[3], (12, 13));
    }
}
