//! Decoding one captured frame into the facts the rest of the pipeline needs.
//!
//! Owns: link-layer headers etherparse does not read (Linux cooked v1/v2, BSD NULL/LOOP),
//! then hands the rest to etherparse (Ethernet with VLAN/QinQ, IPv4 with options, IPv6 with
//! extension headers, TCP). TCP options are read here so unknown kinds are kept raw.
//! Pure: no I/O, no clock. A capture is attacker-controlled: nothing here may panic,
//! and nothing allocates from a length field.

mod fast;
pub mod link;
pub mod tcp;
pub mod tree;

pub use tcp::{TcpFlags, TcpOptions, TcpSegment};

use etherparse::{IpNumber, LaxIpPayloadSlice, LaxNetSlice, LaxSlicedPacket};
use std::net::IpAddr;

/// What kind of packet this is, for the capture summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Tcp,
    Udp,
    Icmp,
    Arp,
    /// IP with another transport protocol (number kept).
    OtherIp(u8),
    /// A non-IP EtherType (or NULL family) we do not read.
    NonIp,
    /// A link type tcpscope cannot read.
    UnsupportedLink,
    /// Too short or malformed below the transport layer.
    Malformed,
}

impl Kind {
    /// The key under `capture.skipped` in the JSON report.
    pub fn skip_key(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Udp => "udp",
            Kind::Icmp => "icmp",
            Kind::Arp => "arp",
            Kind::OtherIp(_) => "other_ip",
            Kind::NonIp => "non_ip",
            Kind::UnsupportedLink => "unsupported_link",
            Kind::Malformed => "malformed",
        }
    }
}

/// Network-layer facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The packet is an IP fragment (not reassembled).
    pub fragment: bool,
    pub ttl: u8,
}

/// A decoded frame. Borrowed from the captured bytes.
#[derive(Clone, Debug)]
pub struct Decoded<'a> {
    pub kind: Kind,
    pub ip: Option<IpInfo>,
    pub tcp: Option<TcpSegment<'a>>,
    /// The capture holds fewer bytes than the headers say the packet had (snapshot length).
    pub truncated: bool,
    /// Why decoding stopped early, when it did.
    pub error: Option<DecodeError>,
}

/// Why a frame could not be fully decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("link type {0} is not supported")]
    UnsupportedLink(u32),
    #[error("{layer} header cut short: {have} of {need} bytes captured")]
    Short {
        layer: &'static str,
        have: usize,
        need: usize,
    },
    #[error("malformed {layer} header: {detail}")]
    Malformed { layer: &'static str, detail: String },
    #[error("TCP data offset {0} is below the minimum of 5 words")]
    BadDataOffset(u8),
}

impl<'a> Decoded<'a> {
    fn new(kind: Kind) -> Self {
        Decoded {
            kind,
            ip: None,
            tcp: None,
            truncated: false,
            error: None,
        }
    }
}

/// Where a frame goes when connections are sharded over threads, read straight from the
/// fixed headers by [`shard_key`] (no allocation, no full decode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardKey {
    /// A TCP segment: a hash of its two endpoints, the same in both directions (the
    /// hash [`hash_ip_endpoints`] gives for what [`decode`] reads).
    Tcp(u64),
    /// [`decode`] certainly reads no TCP segment here: another IP protocol, a non-IP
    /// EtherType or link, an IP fragment, or headers cut short or malformed.
    NotTcp,
    /// Cannot tell without [`decode`]: IPv6 extension headers, an IPv4 authentication
    /// header, MACsec, a third VLAN tag.
    Unsure,
}

/// EtherTypes etherparse looks behind: VLAN tags (C-tag, S-tag, old QinQ) and MACsec.
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88A8, 0x9100];
const ETHERTYPE_MACSEC: u16 = 0x88E5;

/// IPv6 next-header values that are extension headers (IANA's list, RFC 7045), which
/// may have TCP behind them.
const IPV6_EXT_HEADERS: [u8; 11] = [0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254];

/// Classify a frame for sharding by reading its headers in place (Ethernet with up to two
/// VLAN tags, or any IP link type; IPv4, and IPv6 without extension headers). Whenever
/// [`decode`] reads a TCP segment from the frame, this is `Tcp` with the same hash as
/// [`hash_ip_endpoints`] of the decoded endpoints, or `Unsure`; never `NotTcp`.
pub fn shard_key(linktype: u32, data: &[u8]) -> ShardKey {
    match link::strip(linktype, data) {
        link::Link::Ethernet(d) => match (d.get(12..14), d.get(14..)) {
            (Some(et), Some(rest)) => ether_key(u16::from_be_bytes([et[0], et[1]]), rest),
            // Shorter than an Ethernet header: malformed.
            _ => ShardKey::NotTcp,
        },
        link::Link::EtherType(et, d) => ether_key(et, d),
        link::Link::Ip(d) => ip_key(d),
        link::Link::NonIp | link::Link::Short { .. } | link::Link::Unsupported => ShardKey::NotTcp,
    }
}

/// `shard_key` of what follows an EtherType.
fn ether_key(mut et: u16, mut d: &[u8]) -> ShardKey {
    for _ in 0..2 {
        if !ETHERTYPE_VLAN.contains(&et) {
            break;
        }
        // A tag cut short stops the decoder too.
        let Some((tag, rest)) = d.split_first_chunk::<4>() else {
            return ShardKey::NotTcp;
        };
        et = u16::from_be_bytes([tag[2], tag[3]]);
        d = rest;
    }
    match et {
        0x0800 | 0x86DD => ip_key(d),
        ETHERTYPE_MACSEC => ShardKey::Unsure,
        _ if ETHERTYPE_VLAN.contains(&et) => ShardKey::Unsure,
        // ARP and every other EtherType: the decoder reads no IP behind it.
        _ => ShardKey::NotTcp,
    }
}

/// `shard_key` of an IP packet. The decoder picks IPv4 or IPv6 by the version nibble, as
/// here, whatever the link layer announced.
fn ip_key(ip: &[u8]) -> ShardKey {
    match ip.first().map(|b| b >> 4) {
        Some(4) => {
            // Shorter than the fixed header, or an IHL below 5: malformed.
            let Some(h) = ip.first_chunk::<20>() else {
                return ShardKey::NotTcp;
            };
            let ihl = usize::from(h[0] & 0x0F) * 4;
            // Fragment offset or more-fragments: the decoder reads no TCP header from
            // fragments (they are not reassembled).
            let fragment = u16::from_be_bytes([h[6], h[7]]) & 0x3FFF != 0;
            if ihl < 20 || fragment {
                return ShardKey::NotTcp;
            }
            match h[9] {
                6 => ports_key(&h[12..16], &h[16..20], ip.get(ihl..)),
                // An authentication header, which the decoder reads past.
                51 => ShardKey::Unsure,
                _ => ShardKey::NotTcp,
            }
        }
        Some(6) => {
            let Some(h) = ip.first_chunk::<40>() else {
                return ShardKey::NotTcp;
            };
            match h[6] {
                6 => ports_key(&h[8..24], &h[24..40], ip.get(40..)),
                n if IPV6_EXT_HEADERS.contains(&n) => ShardKey::Unsure,
                _ => ShardKey::NotTcp,
            }
        }
        // Neither version: malformed.
        _ => ShardKey::NotTcp,
    }
}

/// The key of a TCP segment from its addresses and the start of the IP payload. Fewer
/// than the 4 bytes of ports captured: the decoder reads no segment either.
fn ports_key(src: &[u8], dst: &[u8], l4: Option<&[u8]>) -> ShardKey {
    match l4.and_then(|l| l.first_chunk::<4>()) {
        Some(p) => ShardKey::Tcp(hash_endpoints((src, &p[0..2]), (dst, &p[2..4]))),
        None => ShardKey::NotTcp,
    }
}

/// [`hash_endpoints`] of two decoded (address, port) endpoints, as [`shard_key`] hashes
/// them from the headers.
pub fn hash_ip_endpoints(a: (IpAddr, u16), b: (IpAddr, u16)) -> u64 {
    let (a_buf, a_len) = addr_bytes(a.0);
    let (b_buf, b_len) = addr_bytes(b.0);
    hash_endpoints(
        (&a_buf[..a_len], &a.1.to_be_bytes()),
        (&b_buf[..b_len], &b.1.to_be_bytes()),
    )
}

/// An address's bytes in network order, on the stack: (buffer, length used).
fn addr_bytes(a: IpAddr) -> ([u8; 16], usize) {
    let mut buf = [0u8; 16];
    match a {
        IpAddr::V4(v) => {
            buf[..4].copy_from_slice(&v.octets());
            (buf, 4)
        }
        IpAddr::V6(v) => (v.octets(), 16),
    }
}

/// Direction-independent hash of two (address bytes, port bytes) endpoints: each endpoint
/// folded into one word, the two words put in order, then mixed. Word-wide: the byte-wise
/// FNV-1a it replaces (a multiply per byte, and a slice comparison to order the endpoints)
/// was 1.3% of a 2-worker report's CPU time, all of it on the reader thread, which every
/// packet waits for. Only spread matters (it picks a worker); no output depends on it.
pub fn hash_endpoints(a: (&[u8], &[u8]), b: (&[u8], &[u8])) -> u64 {
    let (x, y) = (endpoint_word(a.0, a.1), endpoint_word(b.0, b.1));
    let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
    (lo.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ hi).wrapping_mul(0xbf58_476d_1ce4_e5b9)
}

/// One endpoint as a word: its port and address length, then its address 8 bytes at a time.
fn endpoint_word(addr: &[u8], port: &[u8]) -> u64 {
    let port = port.iter().fold(0u64, |p, &b| (p << 8) | u64::from(b));
    let mut h = port | ((addr.len() as u64) << 16);
    for chunk in addr.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(w))
            .wrapping_mul(0x94d0_49bb_1331_11eb)
            .rotate_left(29);
    }
    h
}

/// Decode one frame of link type `linktype` (LINKTYPE_ numbering).
pub fn decode(linktype: u32, data: &[u8], orig_len: u32) -> Decoded<'_> {
    if let Some(d) = fast::ethernet_ipv4_tcp(linktype, data, orig_len) {
        return d;
    }
    decode_general(linktype, data, orig_len)
}

/// [`decode`] through etherparse, for every frame (the fast path must agree with it).
fn decode_general(linktype: u32, data: &[u8], orig_len: u32) -> Decoded<'_> {
    let sliced = match link::strip(linktype, data) {
        link::Link::Ethernet(d) => match LaxSlicedPacket::from_ethernet(d) {
            Ok(s) => s,
            Err(e) => {
                let mut out = Decoded::new(Kind::Malformed);
                out.truncated = true;
                out.error = Some(DecodeError::Short {
                    layer: "Ethernet",
                    have: e.len,
                    need: e.required_len,
                });
                return out;
            }
        },
        link::Link::EtherType(et, d) => {
            LaxSlicedPacket::from_ether_type(etherparse::EtherType(et), d)
        }
        link::Link::Ip(d) => match LaxSlicedPacket::from_ip(d) {
            Ok(s) => s,
            Err(e) => {
                let mut out = Decoded::new(Kind::Malformed);
                out.error = Some(DecodeError::Malformed {
                    layer: "IP",
                    detail: e.to_string(),
                });
                out.truncated = data.len() < orig_len as usize;
                return out;
            }
        },
        link::Link::NonIp => return Decoded::new(Kind::NonIp),
        link::Link::Short { layer, have, need } => {
            let mut out = Decoded::new(Kind::Malformed);
            out.truncated = true;
            out.error = Some(DecodeError::Short { layer, have, need });
            return out;
        }
        link::Link::Unsupported => {
            let mut out = Decoded::new(Kind::UnsupportedLink);
            out.error = Some(DecodeError::UnsupportedLink(linktype));
            return out;
        }
    };
    from_sliced(sliced, (orig_len as usize).saturating_sub(data.len()))
}

/// `uncaptured`: bytes of the frame on the wire beyond what the capture kept.
fn from_sliced(s: LaxSlicedPacket<'_>, uncaptured: usize) -> Decoded<'_> {
    let cut = uncaptured > 0;
    let Some((ip, payload)) = ip_of(&s) else {
        return not_ip(&s, cut);
    };
    let truncated = cut || payload.incomplete;
    let kind = match payload.ip_number {
        IpNumber::TCP => Kind::Tcp,
        IpNumber::UDP => Kind::Udp,
        IpNumber::ICMP | IpNumber::IPV6_ICMP => Kind::Icmp,
        other => Kind::OtherIp(other.0),
    };
    let mut out = Decoded {
        kind,
        ip: Some(ip),
        tcp: None,
        truncated,
        error: None,
    };
    // Only the first fragment carries the TCP header; reassembly is not attempted.
    if kind == Kind::Tcp && !ip.fragment {
        add_tcp(
            &mut out,
            claimed_ip_payload_len(&s),
            payload.payload,
            uncaptured,
        );
    }
    out
}

/// The IP header and its payload, if there is one.
fn ip_of<'a>(s: &LaxSlicedPacket<'a>) -> Option<(IpInfo, LaxIpPayloadSlice<'a>)> {
    Some(match &s.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            let info = IpInfo {
                src: IpAddr::V4(h.source_addr()),
                dst: IpAddr::V4(h.destination_addr()),
                fragment: v4.is_payload_fragmented(),
                ttl: h.ttl(),
            };
            (info, v4.payload().clone())
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            let info = IpInfo {
                src: IpAddr::V6(h.source_addr()),
                dst: IpAddr::V6(h.destination_addr()),
                fragment: v6.is_payload_fragmented(),
                ttl: h.hop_limit(),
            };
            (info, v6.payload().clone())
        }
        Some(LaxNetSlice::Arp(_)) | None => return None,
    })
}

/// What a packet without an IP header is.
fn not_ip<'a>(s: &LaxSlicedPacket<'a>, cut: bool) -> Decoded<'a> {
    match &s.net {
        Some(LaxNetSlice::Arp(_)) => Decoded::new(Kind::Arp),
        _ => {
            let mut out = Decoded::new(if s.link.is_some() || !s.link_exts.is_empty() {
                Kind::NonIp
            } else {
                Kind::Malformed
            });
            if let Some((e, _layer)) = &s.stop_err {
                out.kind = Kind::Malformed;
                out.truncated = cut;
                out.error = Some(DecodeError::Malformed {
                    layer: "network",
                    detail: e.to_string(),
                });
            }
            out
        }
    }
}

/// Parse the TCP segment in `payload` into `out`; `claimed_len` is the payload length
/// the IP header claims.
fn add_tcp<'a>(
    out: &mut Decoded<'a>,
    claimed_len: Option<usize>,
    payload: &'a [u8],
    uncaptured: usize,
) {
    // The payload length the IP header claims (it may exceed what was captured).
    // The payload on the wire: what the IP header claims, but never more than the frame
    // really carried (captured bytes plus those the snapshot length dropped), as Wireshark
    // does. A zero IP length (TSO captures) falls back to what was captured.
    let on_wire = payload.len() + uncaptured;
    let claimed = claimed_len
        .filter(|n| *n > 0)
        .unwrap_or(on_wire)
        .min(on_wire)
        .max(payload.len());
    match tcp::parse(payload, claimed) {
        Ok(seg) => {
            if seg.truncated {
                out.truncated = true;
            }
            out.tcp = Some(seg);
        }
        Err(e) => {
            out.truncated |= matches!(e, DecodeError::Short { .. });
            out.error = Some(e);
        }
    }
}

fn claimed_ip_payload_len(s: &LaxSlicedPacket<'_>) -> Option<usize> {
    match &s.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            let total = usize::from(h.total_len());
            let ihl = usize::from(h.ihl()) * 4;
            let exts = v4.extensions().auth.map(|a| a.slice().len()).unwrap_or(0);
            total.checked_sub(ihl + exts)
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            usize::from(h.payload_length()).checked_sub(v6.extensions().slice().len())
        }
        _ => None,
    }
}

#[cfg(test)]
mod hash_tests {
    use super::*;
    use etherparse::{ArpHardwareId, ArpOperation, ArpPacket, EtherType, PacketBuilder};
    use proptest::prelude::*;

    fn eth_tcp_v4(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(src, dst, 64)
            .tcp(sport, dport, 1, 100)
            .write(&mut out, b"x")
            .unwrap();
        out
    }

    fn eth_tcp_v6(src: [u8; 16], sport: u16, dst: [u8; 16], dport: u16) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv6(src, dst, 64)
            .tcp(sport, dport, 1, 100)
            .write(&mut out, b"hello")
            .unwrap();
        out
    }

    /// The hash of the endpoints `decode` reads, if it reads a TCP segment.
    fn decoded_hash(linktype: u32, data: &[u8]) -> Option<u64> {
        let d = decode(linktype, data, data.len() as u32);
        let (ip, t) = (d.ip?, d.tcp?);
        Some(hash_ip_endpoints(
            (ip.src, t.src_port),
            (ip.dst, t.dst_port),
        ))
    }

    /// What sharding relies on: a frame `decode` reads a TCP segment from is never
    /// `NotTcp`, and a `Tcp` key is the hash of the decoded endpoints.
    fn assert_agrees(linktype: u32, data: &[u8]) {
        let key = shard_key(linktype, data);
        if let Some(h) = decoded_hash(linktype, data) {
            assert!(
                key == ShardKey::Tcp(h) || key == ShardKey::Unsure,
                "decoded TCP hashing to {h:#x} classified {key:?}: {data:02x?}"
            );
        }
    }

    #[test]
    fn tcp_hashes_alike_in_both_directions_and_matches_the_decoder() {
        let mut fwd = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .single_vlan(7.try_into().unwrap())
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(40000, 80, 1, 100)
            .write(&mut fwd, b"x")
            .unwrap();
        let rev = eth_tcp_v4([10, 0, 0, 2], 80, [10, 0, 0, 1], 40000);
        let ShardKey::Tcp(h) = shard_key(1, &fwd) else {
            panic!("{:?}", shard_key(1, &fwd))
        };
        assert_eq!(shard_key(1, &rev), ShardKey::Tcp(h));
        assert_eq!(decoded_hash(1, &rev), Some(h));
        assert_eq!(decoded_hash(1, &fwd), Some(h));
        // Another connection between the same hosts hashes differently.
        let other = eth_tcp_v4([10, 0, 0, 2], 80, [10, 0, 0, 1], 40001);
        assert_ne!(shard_key(1, &other), ShardKey::Tcp(h));

        let (a, b) = (
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0xfe; 16],
        );
        let v6 = eth_tcp_v6(a, 443, b, 50000);
        let v6_rev = eth_tcp_v6(b, 50000, a, 443);
        let ShardKey::Tcp(h6) = shard_key(1, &v6) else {
            panic!()
        };
        assert_eq!(shard_key(1, &v6_rev), ShardKey::Tcp(h6));
        assert_eq!(decoded_hash(1, &v6), Some(h6));
        // The same packet on a raw IP link.
        assert_eq!(shard_key(101, &v6[14..]), ShardKey::Tcp(h6));
    }

    #[test]
    fn udp_and_arp_are_not_tcp() {
        let mut udp = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5353, 53)
            .write(&mut udp, b"query")
            .unwrap();
        assert_eq!(shard_key(1, &udp), ShardKey::NotTcp);
        assert_eq!(decode(1, &udp, udp.len() as u32).kind, Kind::Udp);

        let mut arp = Vec::new();
        PacketBuilder::ethernet2([1; 6], [0xff; 6])
            .arp(
                ArpPacket::new(
                    ArpHardwareId::ETHERNET,
                    EtherType::IPV4,
                    ArpOperation::REQUEST,
                    &[1; 6],
                    &[10, 0, 0, 1],
                    &[0; 6],
                    &[10, 0, 0, 2],
                )
                .unwrap(),
            )
            .write(&mut arp)
            .unwrap();
        assert_eq!(shard_key(1, &arp), ShardKey::NotTcp);
        assert_eq!(decode(1, &arp, arp.len() as u32).kind, Kind::Arp);
    }

    #[test]
    fn fragments_and_extension_headers() {
        // A first IPv4 fragment of a TCP segment: the decoder keeps no segment.
        let mut frag = eth_tcp_v4([10, 0, 0, 1], 1, [10, 0, 0, 2], 2);
        frag[14 + 6] |= 0x20;
        assert_eq!(shard_key(1, &frag), ShardKey::NotTcp);
        assert!(decode(1, &frag, frag.len() as u32).tcp.is_none());

        // IPv6 with a hop-by-hop header before TCP: only the decoder can tell.
        let mut v6 = eth_tcp_v6([1; 16], 1000, [2; 16], 80);
        v6[14 + 6] = 0;
        let plen = u16::from_be_bytes([v6[14 + 4], v6[14 + 5]]) + 8;
        v6[14 + 4..14 + 6].copy_from_slice(&plen.to_be_bytes());
        v6.splice(14 + 40..14 + 40, [6, 0, 1, 4, 0, 0, 0, 0]);
        assert_eq!(shard_key(1, &v6), ShardKey::Unsure);
        let plain = eth_tcp_v6([2; 16], 80, [1; 16], 1000);
        assert_eq!(
            shard_key(1, &plain),
            ShardKey::Tcp(decoded_hash(1, &v6).unwrap())
        );
    }

    #[test]
    fn every_ethertype_and_ip_protocol_agrees_with_the_decoder() {
        let v4 = eth_tcp_v4([10, 0, 0, 1], 40000, [10, 0, 0, 2], 80);
        let v6 = eth_tcp_v6([1; 16], 40000, [2; 16], 80);
        for et in 0..=u16::MAX {
            for ip in [&v4[14..], &v6[14..]] {
                let mut f = v4[..12].to_vec();
                f.extend_from_slice(&et.to_be_bytes());
                // Behind a VLAN-looking type, a tag carrying IPv4.
                f.extend_from_slice(&[0, 7, 0x08, 0x00]);
                f.extend_from_slice(ip);
                assert_agrees(1, &f);
                f.drain(14..18);
                assert_agrees(1, &f);
            }
        }
        // Each protocol number straight before TCP, and before an extension-like header
        // (8 bytes as IPv6 options, routing or fragment headers are; 12 as an
        // authentication header) whose next header is TCP.
        let ext8 = [6u8, 0, 0, 0, 0, 0, 0, 0];
        let ext12 = [6u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        for proto in 0..=u8::MAX {
            for ext in [&[][..], &ext8, &ext12] {
                assert_agrees(1, &with_ext(&v4, 9, 2, proto, ext));
                assert_agrees(1, &with_ext(&v6, 6, 4, proto, ext));
            }
        }
    }

    /// `frame` (Ethernet + IP) with protocol `proto` in the IP header byte `proto_at`
    /// and `ext` inserted after the IP header, the length field at `len_at` grown to fit.
    fn with_ext(frame: &[u8], proto_at: usize, len_at: usize, proto: u8, ext: &[u8]) -> Vec<u8> {
        let mut f = frame.to_vec();
        let hdr = if f[14] >> 4 == 4 { 20 } else { 40 };
        f[14 + proto_at] = proto;
        let len = u16::from_be_bytes([f[14 + len_at], f[15 + len_at]]) + ext.len() as u16;
        f[14 + len_at..16 + len_at].copy_from_slice(&len.to_be_bytes());
        f.splice(14 + hdr..14 + hdr, ext.iter().copied());
        f
    }

    fn base_frames() -> Vec<(u32, Vec<u8>)> {
        let v4 = eth_tcp_v4([10, 0, 0, 1], 40000, [10, 0, 0, 2], 80);
        let v6 = eth_tcp_v6([1; 16], 40000, [2; 16], 80);
        let mut vlan2 = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .double_vlan(1.try_into().unwrap(), 2.try_into().unwrap())
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(1, 2, 3, 4)
            .write(&mut vlan2, b"")
            .unwrap();
        let mut sll = vec![0u8; 16];
        sll[14..16].copy_from_slice(&0x0800u16.to_be_bytes());
        sll.extend_from_slice(&v4[14..]);
        let mut null = vec![2u8, 0, 0, 0];
        null.extend_from_slice(&v6[14..]);
        vec![
            (1, v4.clone()),
            (1, v6.clone()),
            (1, vlan2),
            (101, v4[14..].to_vec()),
            (113, sll),
            (0, null),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn damaged_frames_agree_with_the_decoder(
            which in 0usize..6,
            edits in proptest::collection::vec((0usize..80, any::<u8>()), 0..4),
            cut in proptest::option::of(0usize..80),
        ) {
            let (linktype, mut f) = base_frames().swap_remove(which);
            for (i, b) in edits {
                if let Some(x) = f.get_mut(i) {
                    *x = b;
                }
            }
            if let Some(n) = cut {
                f.truncate(n);
            }
            assert_agrees(linktype, &f);
        }
    }
}
