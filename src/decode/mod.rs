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
    pub fn skip_key(self) -> String {
        match self {
            Kind::Tcp => "tcp".into(),
            Kind::Udp => "udp".into(),
            Kind::Icmp => "icmp".into(),
            Kind::Arp => "arp".into(),
            Kind::OtherIp(_) => "other_ip".into(),
            Kind::NonIp => "non_ip".into(),
            Kind::UnsupportedLink => "unsupported_link".into(),
            Kind::Malformed => "malformed".into(),
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
