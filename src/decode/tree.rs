//! The header tree of one frame: every layer and field with the bytes it covers (for the
//! Packets tab's tree and its hex highlight). Pure: bytes in, lines out; no terminal
//! types, no capture I/O. Never panics on short input: it stops where the bytes end.
//!
//! It reads the headers itself, field by field (etherparse's slices give values, not
//! where each field sits); `decode::decode` finds the same TCP segment behind the same
//! link and IPv6 extension chain (a test below checks it).

use crate::decode::{encap, link};

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

/// Every layer and field below the frame itself (link, encapsulations, IP, IPv6
/// extensions, TCP and its options, payload), with byte ranges within `d`.
pub fn layers(linktype: u32, d: &[u8]) -> Vec<Field> {
    let mut v = Vec::new();
    let Some(mut at) = link_layer(linktype, d, &mut v) else {
        return v;
    };
    // Each pass reads one IP header, or opens one encapsulation (as `decode` does, to the
    // same depth) and goes on inside it.
    for _ in 0..=encap::MAX_DEPTH {
        let (ip_at, ethertype) = at;
        let inner = match ethertype {
            Some(et) if encap::opens_ethertype(et) => {
                let rest = d.get(ip_at..).unwrap_or_default();
                Some((encap::ethertype_name(et), encap::behind_ethertype(et, rest)))
            }
            _ => {
                let Some((proto, upper)) = ip_layer(d, ip_at, ethertype, &mut v) else {
                    break;
                };
                if proto == 6 {
                    tcp(d, upper, &mut v);
                    break;
                }
                encap::behind_ip(proto, d.get(upper..).unwrap_or_default())
            }
        };
        match inner.and_then(|(name, link)| enter(d, ip_at, name, link, &mut v)) {
            Some(next) => at = next,
            None => break,
        }
    }
    v
}

/// The IP header at `at` (IPv4 or IPv6 by the EtherType, or by the version nibble):
/// its upper protocol and where that starts (None: no IP, or a later fragment).
fn ip_layer(d: &[u8], at: usize, et: Option<u16>, v: &mut Vec<Field>) -> Option<(u8, usize)> {
    match (et, d.get(at).map(|b| b >> 4)) {
        (Some(0x0800) | None, Some(4)) => ipv4(d, at, v),
        (Some(0x86dd) | None, Some(6)) => ipv6(d, at, v),
        _ => None,
    }
}

/// Into an encapsulation `name` whose header starts at `from`: its line, then where what
/// it carries starts (an IP packet, or an Ethernet frame read here).
fn enter(
    d: &[u8],
    from: usize,
    name: &str,
    inner: link::Link<'_>,
    v: &mut Vec<Field>,
) -> Option<(usize, Option<u16>)> {
    let start = |s: &[u8]| (s.as_ptr() as usize).checked_sub(d.as_ptr() as usize);
    let (at, frame, et) = match inner {
        link::Link::Ip(rest) => (start(rest)?, false, None),
        link::Link::Ethernet(rest) => (start(rest)?, true, None),
        // An EtherType opened on the next pass (MPLS behind GRE, say).
        link::Link::EtherType(et, rest) => (start(rest)?, false, Some(et)),
        _ => return None,
    };
    field(
        v,
        0,
        format!("{name} (encapsulation: the packet inside is the connection's)"),
        from,
        at.checked_sub(from)?,
    );
    if frame {
        ethernet(d, at, v)
    } else {
        Some((at, et))
    }
}

/// The link header's fields; where the IP header starts and the EtherType naming it (None:
/// a link type that carries IP directly). None when the frame holds no IP we can find.
fn link_layer(linktype: u32, d: &[u8], v: &mut Vec<Field>) -> Option<(usize, Option<u16>)> {
    let base = d.as_ptr() as usize;
    match link::strip(linktype, d) {
        link::Link::Ethernet(_) => ethernet(d, 0, v),
        link::Link::EtherType(et, rest) => {
            let off = rest.as_ptr() as usize - base;
            field(v, 0, format!("Link header (EtherType 0x{et:04x})"), 0, off);
            Some((off, Some(et)))
        }
        link::Link::Ip(rest) => {
            let off = rest.as_ptr() as usize - base;
            if off > 0 {
                field(v, 0, "Link header".into(), 0, off);
            }
            Some((off, None))
        }
        _ => None,
    }
}

/// An Ethernet II header at `o` and its VLAN tags; where its payload starts and its
/// EtherType.
fn ethernet(d: &[u8], o: usize, v: &mut Vec<Field>) -> Option<(usize, Option<u16>)> {
    if d.len() < o + 14 {
        return None;
    }
    field(v, 0, "Ethernet II".into(), o, 14);
    field(v, 1, format!("Destination: {}", mac(&d[o..o + 6])), o, 6);
    field(
        v,
        1,
        format!("Source: {}", mac(&d[o + 6..o + 12])),
        o + 6,
        6,
    );
    let mut at = o + 12;
    let mut et = be16(d, at).unwrap_or(0);
    while (et == 0x8100 || et == 0x88a8) && d.len() >= at + 6 {
        let tci = be16(d, at + 2).unwrap_or(0);
        field(v, 1, format!("VLAN tag: id {}", tci & 0x0fff), at, 4);
        at += 4;
        et = be16(d, at).unwrap_or(0);
    }
    field(v, 1, format!("Type: 0x{et:04x}"), at, 2);
    Some((at + 2, Some(et)))
}

/// The IPv4 header at `at`: its protocol and where its payload starts, unless a later
/// fragment (no upper header there).
fn ipv4(d: &[u8], at: usize, v: &mut Vec<Field>) -> Option<(u8, usize)> {
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
    if ff & 0x1fff != 0 {
        later_fragment(d, at + ihl, v);
        return None;
    }
    Some((d[at + 9], at + ihl))
}

/// The bytes after the IP header of a fragment other than the first: no upper header is
/// there, and the segment they belong to is listed at the datagram's last fragment.
fn later_fragment(d: &[u8], at: usize, v: &mut Vec<Field>) {
    let n = d.len().saturating_sub(at);
    let text = format!(
        "Fragment data: {n} bytes, no TCP header here (its segment is shown whole at the last fragment)"
    );
    field(v, 0, text, at.min(d.len()), n);
}

fn ipv6(d: &[u8], at: usize, v: &mut Vec<Field>) -> Option<(u8, usize)> {
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
/// rule); the upper protocol the chain ends in and where it starts, unless a non-first
/// fragment. Stops where the bytes end.
fn ipv6_extensions(
    d: &[u8],
    mut next: u8,
    mut at: usize,
    v: &mut Vec<Field>,
) -> Option<(u8, usize)> {
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
        first_fragment &= extension_fields(d, next, at, b1, v)?;
        if d.len() < at + len {
            return None;
        }
        next = nh;
        at += len;
    }
    if !first_fragment {
        later_fragment(d, at, v);
        return None;
    }
    Some((next, at))
}

/// The fields of the IPv6 extension header `next` at `at` after its next-header byte
/// (`b1`: its second byte); whether it leaves this packet a first fragment (or none).
fn extension_fields(d: &[u8], next: u8, at: usize, b1: u8, v: &mut Vec<Field>) -> Option<bool> {
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
            return Some(offset == 0);
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
    Some(true)
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
        tcp_options(d, at + 20, at + off, v);
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

/// The TCP options between `o` and `end` (the header's end), one field each.
fn tcp_options(d: &[u8], mut o: usize, end: usize, v: &mut Vec<Field>) {
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
                let t = tcp_option_text(kind, body, l);
                (l, t)
            }
        };
        field(v, 2, text, o, len);
        o += len;
    }
}

/// One option's line: kind `kind`, `l` bytes long, `body` after the kind and length bytes.
fn tcp_option_text(kind: u8, body: &[u8], l: usize) -> String {
    match (kind, body.len()) {
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
                .map(|c| format!("{}-{}", be32(c, 0).unwrap_or(0), be32(c, 4).unwrap_or(0)))
                .collect();
            format!("SACK: {}", blocks.join(" "))
        }
        (8, 8) => format!(
            "Timestamps: TSval {}, TSecr {}",
            be32(body, 0).unwrap_or(0),
            be32(body, 4).unwrap_or(0)
        ),
        (34, 0) => "TCP Fast Open: cookie request (RFC 7413)".to_string(),
        (34, _) => format!("TCP Fast Open cookie: {}", hex(body)),
        // The experimental form used before kind 34 was assigned: magic 0xF989 first.
        (254, n) if n >= 2 && body[..2] == [0xf9, 0x89] => match &body[2..] {
            [] => "TCP Fast Open (experimental option 254): cookie request".to_string(),
            c => format!("TCP Fast Open cookie (experimental option 254): {}", hex(c)),
        },
        (19, 16) => "MD5 signature (RFC 2385)".to_string(),
        (29, _) => "TCP Authentication Option (RFC 5925)".to_string(),
        (30, _) => "Multipath TCP (RFC 8684)".to_string(),
        _ => format!("Option kind {kind}, {} bytes", l),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_open_options_are_named() {
        assert_eq!(
            tcp_option_text(34, &[], 2),
            "TCP Fast Open: cookie request (RFC 7413)"
        );
        assert_eq!(
            tcp_option_text(34, &[0x22, 0x0a, 0xd6, 0x4c, 0x59, 0x43, 0xde, 0x07], 10),
            "TCP Fast Open cookie: 220ad64c5943de07"
        );
        assert_eq!(
            tcp_option_text(254, &[0xf9, 0x89], 4),
            "TCP Fast Open (experimental option 254): cookie request"
        );
        assert_eq!(
            tcp_option_text(254, &[0xf9, 0x89, 1, 2], 6),
            "TCP Fast Open cookie (experimental option 254): 0102"
        );
        assert_eq!(tcp_option_text(254, &[1], 3), "Option kind 254, 3 bytes");
        assert_eq!(tcp_option_text(30, &[0, 1], 4), "Multipath TCP (RFC 8684)");
    }

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
        layers(1, &data).into_iter().map(|f| f.text).collect()
    }

    /// A later IPv4 fragment: its data is named as such, and no TCP header is read from it.
    #[test]
    fn a_later_fragment_says_where_its_segment_is() {
        let mut f = Vec::new();
        etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .write(&mut f, etherparse::IpNumber(6), &[0u8; 24])
            .unwrap();
        f[14 + 6..14 + 8].copy_from_slice(&(1480u16 / 8).to_be_bytes());
        let t = tree(f);
        assert!(
            t.iter()
                .all(|l| !l.starts_with("Transmission Control Protocol")),
            "{t:#?}"
        );
        assert!(
            t.last()
                .is_some_and(|l| l.starts_with("Fragment data: 24 bytes, no TCP header here")),
            "{t:#?}"
        );
    }

    /// The IPv6 frame above inside GRE (with a key) inside IPv4, and inside VXLAN: the tree
    /// names each encapsulation and goes on to the same TCP header the decoder reads.
    #[test]
    fn encapsulations_are_named_and_opened_down_to_tcp() {
        let inner = ipv6_with_extensions(0);
        let outer = |proto: u8, body: &[u8]| {
            let mut o = Vec::new();
            etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
                .ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
                .write(&mut o, etherparse::IpNumber(proto), body)
                .unwrap();
            o
        };
        let gre = outer(
            47,
            &[&[0x20, 0, 0x86, 0xDD, 0, 0, 0, 9][..], &inner[14..]].concat(),
        );
        let mut vxlan = Vec::new();
        etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
            .udp(50000, 4789)
            .write(
                &mut vxlan,
                &[&[8u8, 0, 0, 0, 0, 0, 1, 0][..], &inner].concat(),
            )
            .unwrap();
        for (frame, tunnel, ethernets) in [(gre, "GRE", 1), (vxlan, "VXLAN", 2)] {
            let dec = crate::decode::decode(1, &frame, frame.len() as u32);
            assert_eq!(dec.tcp.as_ref().map(|s| s.src_port), Some(40000));
            let t = tree(frame);
            let has = |s: &str| t.iter().filter(|l| l.starts_with(s)).count();
            assert_eq!(has(&format!("{tunnel} (encapsulation")), 1, "{t:#?}");
            assert_eq!(has("Ethernet II"), ethernets, "{t:#?}");
            assert_eq!(has("Internet Protocol version 6"), 1, "{t:#?}");
            assert_eq!(has("Source port: 40000"), 1, "{t:#?}");
        }
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
            for f in layers(linktype, &data) {
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
            for f in layers(1, &data) {
                if let Some((at, n)) = f.range {
                    proptest::prop_assert!(at + n <= len, "{} at {at}+{n} of {len}", f.text);
                }
            }
        }
    }
}
