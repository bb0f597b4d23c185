//! Decoding one captured frame into the facts the rest of the pipeline needs.
//!
//! Owns: link-layer headers etherparse does not read (Linux cooked v1/v2, BSD NULL/LOOP),
//! then hands the rest to etherparse (Ethernet with VLAN/QinQ, IPv4 with options, IPv6 with
//! extension headers, TCP). TCP options are read here so unknown kinds are kept raw.
//! Pure: no I/O, no clock. A capture is attacker-controlled: nothing here may panic,
//! and nothing allocates from a length field.

pub mod link;
pub mod tcp;

pub use tcp::{TcpFlags, TcpOptions, TcpSegment};

use etherparse::{IpNumber, LaxNetSlice, LaxSlicedPacket};
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

/// A hash of a TCP packet's two endpoints that is the same in both directions, read
/// straight from the headers (Ethernet with up to two VLAN tags, or any IP link type;
/// IPv4 and IPv6 without extension headers). None for anything else, which the caller
/// then sorts out with [`decode`]. Used to shard connections over threads cheaply.
pub fn endpoint_hash(linktype: u32, data: &[u8]) -> Option<u64> {
    let ip = match link::strip(linktype, data) {
        link::Link::Ethernet(d) => {
            let mut et = u16::from_be_bytes([*d.get(12)?, *d.get(13)?]);
            let mut off = 14;
            for _ in 0..2 {
                if matches!(et, 0x8100 | 0x88A8 | 0x9100) {
                    et = u16::from_be_bytes([*d.get(off + 2)?, *d.get(off + 3)?]);
                    off += 4;
                }
            }
            if !matches!(et, 0x0800 | 0x86DD) {
                return None;
            }
            d.get(off..)?
        }
        link::Link::EtherType(0x0800 | 0x86DD, d) | link::Link::Ip(d) => d,
        _ => return None,
    };
    let (addrs, l4): (&[u8], &[u8]) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip[0] & 0x0F) * 4;
            let frag = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]) & 0x3FFF;
            if *ip.get(9)? != 6 || frag != 0 || ihl < 20 {
                return None;
            }
            (ip.get(12..20)?, ip.get(ihl..)?)
        }
        6 => {
            if *ip.get(6)? != 6 {
                return None;
            }
            (ip.get(8..40)?, ip.get(40..)?)
        }
        _ => return None,
    };
    let half = addrs.len() / 2;
    Some(hash_endpoints(
        (&addrs[..half], l4.get(0..2)?),
        (&addrs[half..], l4.get(2..4)?),
    ))
}

/// Direction-independent FNV-1a hash of two (address bytes, port bytes) endpoints.
pub fn hash_endpoints(a: (&[u8], &[u8]), b: (&[u8], &[u8])) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in lo.0.iter().chain(lo.1).chain(hi.0).chain(hi.1) {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Decode one frame of link type `linktype` (LINKTYPE_ numbering).
pub fn decode(linktype: u32, data: &[u8], orig_len: u32) -> Decoded<'_> {
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
    let (ip, payload) = match &s.net {
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
        Some(LaxNetSlice::Arp(_)) => return Decoded::new(Kind::Arp),
        None => {
            let mut out = Decoded::new(if s.link.is_some() || !s.link_exts.is_empty() {
                Kind::NonIp
            } else {
                Kind::Malformed
            });
            if let Some((e, _layer)) = s.stop_err {
                out.kind = Kind::Malformed;
                out.truncated = cut;
                out.error = Some(DecodeError::Malformed {
                    layer: "network",
                    detail: e.to_string(),
                });
            }
            return out;
        }
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
    if kind != Kind::Tcp {
        return out;
    }
    if ip.fragment {
        // Only the first fragment carries the TCP header; reassembly is not attempted.
        return out;
    }
    // The payload length the IP header claims (it may exceed what was captured).
    // The payload on the wire: what the IP header claims, but never more than the frame
    // really carried (captured bytes plus those the snapshot length dropped), as Wireshark
    // does. A zero IP length (TSO captures) falls back to what was captured.
    let on_wire = payload.payload.len() + uncaptured;
    let claimed = claimed_ip_payload_len(&s)
        .filter(|n| *n > 0)
        .unwrap_or(on_wire)
        .min(on_wire)
        .max(payload.payload.len());
    match tcp::parse(payload.payload, claimed) {
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
    out
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
    use etherparse::PacketBuilder;

    #[test]
    fn endpoint_hash_is_direction_free_and_matches_the_decoder() {
        let mut fwd = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .single_vlan(7.try_into().unwrap())
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(40000, 80, 1, 100)
            .write(&mut fwd, b"x")
            .unwrap();
        let mut rev = Vec::new();
        PacketBuilder::ethernet2([2; 6], [1; 6])
            .ipv4([10, 0, 0, 2], [10, 0, 0, 1], 64)
            .tcp(80, 40000, 1, 100)
            .write(&mut rev, b"")
            .unwrap();
        let h = endpoint_hash(1, &fwd).unwrap();
        assert_eq!(Some(h), endpoint_hash(1, &rev));
        let d = decode(1, &rev, rev.len() as u32);
        let (ip, t) = (d.ip.unwrap(), d.tcp.unwrap());
        let (std::net::IpAddr::V4(s), std::net::IpAddr::V4(dd)) = (ip.src, ip.dst) else {
            panic!()
        };
        let via_decode = hash_endpoints(
            (&s.octets(), &t.src_port.to_be_bytes()),
            (&dd.octets(), &t.dst_port.to_be_bytes()),
        );
        assert_eq!(h, via_decode);
    }
}
