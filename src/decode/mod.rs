//! Decoding one captured frame into the facts the rest of the pipeline needs.
//!
//! Owns: link-layer headers etherparse does not read (Linux cooked v1/v2, BSD NULL/LOOP),
//! the encapsulations it does not open (`encap`: 802.11, MPLS, PPPoE, PPP, GRE, IP in IP,
//! VXLAN, Geneve, GTP-U, Teredo; the inner packet is the one decoded), then hands the rest
//! to etherparse (Ethernet with VLAN/QinQ, IPv4 with options, IPv6 with extension headers,
//! TCP). IP fragments of TCP segments are put back together by `defrag`, used by the
//! pipeline (a frame alone is decoded here as it is). TCP options are read here so unknown kinds are kept raw.
//! Pure: no I/O, no clock. A capture is attacker-controlled: nothing here may panic,
//! and nothing allocates from a length field.

pub mod defrag;
pub mod encap;
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
    /// The outermost encapsulation opened to reach this packet (`encap`), if any.
    pub encap: Option<&'static str>,
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
            encap: None,
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

/// Past up to two VLAN tags: the EtherType they carry and what follows it; `None` when a
/// tag is cut short (which stops the decoder too).
fn skip_vlans(mut et: u16, mut d: &[u8]) -> Option<(u16, &[u8])> {
    for _ in 0..2 {
        if !ETHERTYPE_VLAN.contains(&et) {
            break;
        }
        let (tag, rest) = d.split_first_chunk::<4>()?;
        et = u16::from_be_bytes([tag[2], tag[3]]);
        d = rest;
    }
    Some((et, d))
}

/// `shard_key` of what follows an EtherType.
fn ether_key(et: u16, d: &[u8]) -> ShardKey {
    let Some((et, d)) = skip_vlans(et, d) else {
        return ShardKey::NotTcp;
    };
    match et {
        0x0800 | 0x86DD => ip_key(d),
        ETHERTYPE_MACSEC => ShardKey::Unsure,
        // An encapsulation the decoder opens: the inner packet decides.
        _ if encap::opens_ethertype(et) => ShardKey::Unsure,
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
                p => tunnel_key(p, ip.get(ihl..)),
            }
        }
        Some(6) => {
            let Some(h) = ip.first_chunk::<40>() else {
                return ShardKey::NotTcp;
            };
            match h[6] {
                6 => ports_key(&h[8..24], &h[24..40], ip.get(40..)),
                n if IPV6_EXT_HEADERS.contains(&n) => ShardKey::Unsure,
                p => tunnel_key(p, ip.get(40..)),
            }
        }
        // Neither version: malformed.
        _ => ShardKey::NotTcp,
    }
}

/// Another IP protocol: `Unsure` when it may be a tunnel the decoder opens (IP in IP,
/// GRE, UDP to or from a tunnel port), else `NotTcp`.
fn tunnel_key(proto: u8, l4: Option<&[u8]>) -> ShardKey {
    let port = |p: &[u8]| u16::from_be_bytes([p[0], p[1]]);
    let tunnel = match proto {
        encap::IP_IN_IP | encap::IPV6_IN_IP | encap::GRE => true,
        17 => l4
            .and_then(|l| l.first_chunk::<4>())
            .is_some_and(|p| encap::tunnel_port(port(&p[0..2]), port(&p[2..4])).is_some()),
        _ => false,
    };
    if tunnel {
        ShardKey::Unsure
    } else {
        ShardKey::NotTcp
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
    let uncaptured = (orig_len as usize).saturating_sub(data.len());
    match decode_link(link::strip(linktype, data), uncaptured, 0) {
        Some(d) => d,
        None => {
            let mut out = Decoded::new(Kind::UnsupportedLink);
            out.error = Some(DecodeError::UnsupportedLink(linktype));
            out
        }
    }
}

/// The EtherType behind an Ethernet header and up to two VLAN tags, and what follows it.
fn ethertype_of(frame: &[u8]) -> Option<(u16, &[u8])> {
    let et = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    skip_vlans(et, frame.get(14..)?)
}

/// Decode what follows a link header, `depth` encapsulations in; `None` for a link type
/// tcpscope does not read.
fn decode_link(l: link::Link<'_>, uncaptured: usize, depth: u8) -> Option<Decoded<'_>> {
    let opened = |et: u16, d| {
        (encap::opens_ethertype(et) && depth < encap::MAX_DEPTH)
            .then(|| (encap::ethertype_name(et), encap::behind_ethertype(et, d)))
    };
    let open = |(name, inner), depth| {
        let mut d = decode_link(inner, uncaptured, depth)?;
        d.encap = Some(name);
        Some(d)
    };
    let sliced = match l {
        link::Link::Ethernet(d) => {
            if let Some(inner) = ethertype_of(d).and_then(|(et, rest)| opened(et, rest)) {
                return open(inner, depth + 1);
            }
            match LaxSlicedPacket::from_ethernet(d) {
                Ok(s) => s,
                Err(e) => {
                    let mut out = Decoded::new(Kind::Malformed);
                    out.truncated = true;
                    out.error = Some(DecodeError::Short {
                        layer: "Ethernet",
                        have: e.len,
                        need: e.required_len,
                    });
                    return Some(out);
                }
            }
        }
        link::Link::EtherType(et, d) => {
            if let Some(inner) = skip_vlans(et, d).and_then(|(et, rest)| opened(et, rest)) {
                return open(inner, depth + 1);
            }
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
                out.truncated = uncaptured > 0;
                return Some(out);
            }
        },
        link::Link::NonIp => return Some(Decoded::new(Kind::NonIp)),
        link::Link::Short { layer, have, need } => {
            let mut out = Decoded::new(Kind::Malformed);
            out.truncated = true;
            out.error = Some(DecodeError::Short { layer, have, need });
            return Some(out);
        }
        link::Link::Unsupported => return None,
    };
    Some(from_sliced(sliced, uncaptured, depth))
}

/// The packet a tunnel in `payload` carries, decoded, when it is one `encap` opens and
/// what it carries is IP; `None` otherwise (the outer packet is then what it says).
fn inner_packet(proto: u8, payload: &[u8], uncaptured: usize, depth: u8) -> Option<Decoded<'_>> {
    if depth >= encap::MAX_DEPTH {
        return None;
    }
    let (name, link) = encap::behind_ip(proto, payload)?;
    let mut inner = decode_link(link, uncaptured, depth + 1)?;
    inner.encap = Some(name);
    // A tunnel known by its UDP port alone may be any UDP on that port: when what it
    // carries does not read as IP, the datagram stays UDP.
    let keep = match inner.kind {
        Kind::NonIp | Kind::UnsupportedLink => false,
        Kind::Malformed => proto != 17,
        _ => true,
    };
    keep.then_some(inner)
}

/// `uncaptured`: bytes of the frame on the wire beyond what the capture kept; `depth`:
/// encapsulations opened to get here.
fn from_sliced(s: LaxSlicedPacket<'_>, uncaptured: usize, depth: u8) -> Decoded<'_> {
    let cut = uncaptured > 0;
    let Some((ip, payload)) = ip_of(&s) else {
        return not_ip(&s, cut);
    };
    if !ip.fragment
        && let Some(inner) = inner_packet(payload.ip_number.0, payload.payload, uncaptured, depth)
    {
        return inner;
    }
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
        encap: None,
    };
    // Only the first fragment carries the TCP header, and a fragment's segment is not
    // whole: it is read once `defrag` has put the fragments back together.
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
mod hash_tests;
