//! The common frame read in place: Ethernet II carrying IPv4 without options, not a
//! fragment, whose whole IP packet was captured, carrying TCP. etherparse's general
//! slicing builds a large description of every layer and copies it several times per
//! frame (about 7% of a report's CPU on the shared benchmark, 2026-12-01); this reads the
//! few fields needed and hands the TCP header to the same parser. Anything else (VLAN
//! tags, IP options, fragments, IPv6, a cut IP packet) goes the general way. The result is
//! the general path's exactly: the tests compare both over every field mutation of such
//! frames.

use super::{Decoded, IpInfo, Kind, add_tcp};
use std::net::{IpAddr, Ipv4Addr};

const LINKTYPE_ETHERNET: u32 = 1;

/// The decoded frame, or None when it is not the common case.
pub(super) fn ethernet_ipv4_tcp(linktype: u32, data: &[u8], orig_len: u32) -> Option<Decoded<'_>> {
    if linktype != LINKTYPE_ETHERNET {
        return None;
    }
    let (eth, ip) = data.split_at_checked(14)?;
    if eth[12..14] != [0x08, 0x00] {
        return None;
    }
    let h = ip.first_chunk::<20>()?;
    // Version 4, a 20-byte header (no options).
    if h[0] != 0x45 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let fragment = u16::from_be_bytes([h[6], h[7]]) & 0x3FFF != 0;
    if h[9] != 6 || fragment || total < 20 || total > ip.len() {
        return None;
    }
    let payload = &ip[20..total];
    let uncaptured = (orig_len as usize).saturating_sub(data.len());
    let mut out = Decoded {
        kind: Kind::Tcp,
        ip: Some(IpInfo {
            src: IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15])),
            dst: IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19])),
            fragment: false,
            ttl: h[8],
        }),
        tcp: None,
        truncated: uncaptured > 0,
        error: None,
        encap: None,
    };
    add_tcp(&mut out, Some(total - 20), payload, uncaptured);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::decode_general;
    use super::*;
    use etherparse::PacketBuilder;

    fn frames() -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        for (payload, opts) in [
            (&b""[..], false),
            (b"GET / HTTP/1.1\r\n\r\n", false),
            (b"x", true),
        ] {
            let b = PacketBuilder::ethernet2([1; 6], [2; 6]).ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64);
            let b = b.tcp(1234, 80, 7, 1000).ack(9).psh();
            let b = if opts {
                b.options(&[
                    etherparse::TcpOptionElement::MaximumSegmentSize(1460),
                    etherparse::TcpOptionElement::Noop,
                    etherparse::TcpOptionElement::WindowScale(7),
                ])
                .unwrap()
            } else {
                b
            };
            let mut out = Vec::new();
            b.write(&mut out, payload).unwrap();
            v.push(out);
        }
        v
    }

    fn same(data: &[u8], orig_len: u32) -> bool {
        match ethernet_ipv4_tcp(1, data, orig_len) {
            None => true,
            Some(fast) => {
                let general = decode_general(1, data, orig_len);
                assert_eq!(
                    format!("{fast:?}"),
                    format!("{general:?}"),
                    "{data:02x?} {orig_len}"
                );
                true
            }
        }
    }

    /// Every header byte set to values that matter (zero, one, the IPv4 version/IHL byte,
    /// all ones, and a few lengths), every cut of the frame, and wire lengths beyond it:
    /// wherever the fast path answers, it answers as etherparse's path.
    #[test]
    fn agrees_with_the_general_path_on_every_mutation() {
        let mut answered = 0;
        for f in frames() {
            let n = f.len() as u32;
            for len in 0..=f.len() {
                for orig in [len as u32, n, n + 100] {
                    assert!(same(&f[..len], orig));
                    answered += usize::from(ethernet_ipv4_tcp(1, &f[..len], orig).is_some());
                }
            }
            for i in 12..f.len().min(14 + 20 + 24) {
                for v in [0u8, 1, 2, 5, 6, 0x14, 0x20, 0x40, 0x45, 0x50, 0x80, 0xff] {
                    let mut m = f.clone();
                    m[i] = v;
                    // Trailing padding after the IP packet, as short Ethernet frames have.
                    let mut padded = m.clone();
                    padded.extend_from_slice(&[0; 6]);
                    for (d, orig) in [(&m, n), (&padded, n + 6), (&m, n + 40)] {
                        assert!(same(d, orig));
                        answered += usize::from(ethernet_ipv4_tcp(1, d, orig).is_some());
                    }
                }
            }
        }
        // The fast path did answer (this test is not vacuous).
        assert!(answered > 1000, "{answered}");
    }

    #[test]
    fn leaves_other_frames_to_the_general_path() {
        let f = &frames()[1];
        assert!(ethernet_ipv4_tcp(1, f, f.len() as u32).is_some());
        // Another link type, a VLAN tag, IP options, a fragment, a cut IP packet.
        assert!(ethernet_ipv4_tcp(101, &f[14..], f.len() as u32).is_none());
        let mut vlan = f.clone();
        vlan[12] = 0x81;
        assert!(ethernet_ipv4_tcp(1, &vlan, f.len() as u32).is_none());
        let mut opts = f.clone();
        opts[14] = 0x46;
        assert!(ethernet_ipv4_tcp(1, &opts, f.len() as u32).is_none());
        let mut frag = f.clone();
        frag[14 + 6] = 0x20;
        assert!(ethernet_ipv4_tcp(1, &frag, f.len() as u32).is_none());
        assert!(ethernet_ipv4_tcp(1, &f[..f.len() - 1], f.len() as u32).is_none());
    }
}
