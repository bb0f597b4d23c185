//! Encapsulations etherparse does not open, so that the TCP connection they carry is
//! seen: MPLS label stacks and PPPoE sessions behind an EtherType; the PPP, PPPoE,
//! Cisco HDLC and 802.11 (plain or with radiotap; unencrypted data frames) link types; and tunnels inside IP (IPv4 or IPv6 in IP, GRE with ERSPAN,
//! and on their IANA UDP ports VXLAN, Geneve, GTP-U and Teredo). The connection shown is the inner one, as
//! Wireshark and Zeek show it; the outer headers only carried it.
//!
//! Before this, such frames were counted as "non_ip" or "other_ip" and a capture taken
//! on a provider link (MPLS, PPPoE) or a mirror port (ERSPAN, VXLAN) showed no
//! connection at all. Pure, no allocation; every length read is checked against the
//! captured bytes.

use super::link::Link;

/// How many encapsulations deep a frame is opened (GRE in GRE in ...): a bound on the
/// work one crafted frame can ask for.
pub(super) const MAX_DEPTH: u8 = 8;

pub(super) const ETHERTYPE_MPLS: [u16; 2] = [0x8847, 0x8848];
pub(super) const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
/// Transparent Ethernet bridging (GRE's and Geneve's protocol type for a whole frame).
const ETHERTYPE_TEB: u16 = 0x6558;
const ETHERTYPE_ERSPAN_2: u16 = 0x88BE;
const ETHERTYPE_ERSPAN_3: u16 = 0x22EB;

pub const LINKTYPE_PPP: u32 = 9;
pub const LINKTYPE_PPP_HDLC: u32 = 50;
pub const LINKTYPE_PPP_ETHER: u32 = 51;
pub const LINKTYPE_C_HDLC: u32 = 104;
pub const LINKTYPE_IEEE802_11: u32 = 105;
pub const LINKTYPE_IEEE802_11_RADIOTAP: u32 = 127;

/// UDP ports of the tunnels opened (IANA: VXLAN 4789, Geneve 6081, GTP-U 2152, Teredo
/// 3544), with their names, in the order a datagram between two of them is tried.
const UDP_TUNNELS: [(u16, &str); 4] = [
    (4789, "VXLAN"),
    (6081, "Geneve"),
    (2152, "GTP-U"),
    (3544, "Teredo"),
];

/// IP protocol numbers of the tunnels opened.
pub(super) const IP_IN_IP: u8 = 4;
pub(super) const IPV6_IN_IP: u8 = 41;
pub(super) const GRE: u8 = 47;

/// Whether an EtherType is one [`behind_ethertype`] opens.
pub(super) fn opens_ethertype(et: u16) -> bool {
    ETHERTYPE_MPLS.contains(&et) || et == ETHERTYPE_PPPOE_SESSION
}

/// The tunnel a UDP datagram between these ports is, if one [`behind_ip`] opens (the
/// destination port first).
pub(super) fn tunnel_port(src: u16, dst: u16) -> Option<&'static str> {
    let named = |p: u16| UDP_TUNNELS.iter().find(|t| t.0 == p).map(|t| t.1);
    named(dst).or_else(|| named(src))
}

/// What a frame of the PPP, PPPoE, Cisco HDLC or 802.11 link types carries.
pub(super) fn strip_link(linktype: u32, d: &[u8]) -> Link<'_> {
    match linktype {
        LINKTYPE_IEEE802_11 => wifi(d),
        LINKTYPE_IEEE802_11_RADIOTAP => radiotap(d),
        LINKTYPE_PPP | LINKTYPE_PPP_HDLC => ppp(d),
        LINKTYPE_PPP_ETHER => pppoe(d),
        LINKTYPE_C_HDLC => match (d.get(2..4), d.get(4..)) {
            (Some(p), Some(rest)) => by_ethertype(u16::from_be_bytes([p[0], p[1]]), rest),
            _ => short("Cisco HDLC", d.len(), 4),
        },
        _ => Link::Unsupported,
    }
}

/// Radiotap (version 0): its length (little-endian) says where the 802.11 frame starts.
fn radiotap(d: &[u8]) -> Link<'_> {
    let Some(h) = d.first_chunk::<4>() else {
        return short("radiotap", d.len(), 4);
    };
    let len = usize::from(u16::from_le_bytes([h[2], h[3]]));
    match d.get(len..) {
        Some(frame) if h[0] == 0 => wifi(frame),
        Some(_) => Link::NonIp,
        None => short("radiotap", d.len(), len),
    }
}

/// An 802.11 data frame's payload behind its LLC/SNAP header (an EtherType). Management
/// and control frames, null data and protected (encrypted) frames carry no IP that can
/// be read: `NonIp`.
fn wifi(d: &[u8]) -> Link<'_> {
    let Some(fc) = d.first_chunk::<2>() else {
        return short("802.11", d.len(), 2);
    };
    let (kind, subtype, flags) = ((fc[0] >> 2) & 3, fc[0] >> 4, fc[1]);
    // Data frames only, not the null-data subtypes (bit 2), not protected (0x40).
    if kind != 2 || subtype & 0x4 != 0 || flags & 0x40 != 0 {
        return Link::NonIp;
    }
    let qos = subtype & 0x8 != 0;
    let len = 24
        + if flags & 0x03 == 0x03 { 6 } else { 0 }
        + if qos { 2 } else { 0 }
        + if qos && flags & 0x80 != 0 { 4 } else { 0 };
    match d.get(len..len + 8) {
        Some([0xAA, 0xAA, 0x03, _, _, _, a, b]) => {
            by_ethertype(u16::from_be_bytes([*a, *b]), &d[len + 8..])
        }
        Some(_) => Link::NonIp,
        None => short("802.11 data", d.len(), len + 8),
    }
}

/// What follows an EtherType this module opens (MPLS, a PPPoE session).
pub(super) fn behind_ethertype(et: u16, d: &[u8]) -> Link<'_> {
    if ETHERTYPE_MPLS.contains(&et) {
        mpls(d)
    } else if et == ETHERTYPE_PPPOE_SESSION {
        pppoe(d)
    } else {
        by_ethertype(et, d)
    }
}

/// The name the report gives an EtherType [`behind_ethertype`] opens.
pub(super) fn ethertype_name(et: u16) -> &'static str {
    if et == ETHERTYPE_PPPOE_SESSION {
        "PPPoE"
    } else {
        "MPLS"
    }
}

/// What an IP payload of protocol `proto` carries, with the tunnel's name, when it is a
/// tunnel opened here (`None`: it is not one; the packet is what it says it is).
pub(super) fn behind_ip(proto: u8, payload: &[u8]) -> Option<(&'static str, Link<'_>)> {
    match proto {
        IP_IN_IP => Some(("IPv4 in IP", Link::Ip(payload))),
        IPV6_IN_IP => Some(("IPv6 in IP", Link::Ip(payload))),
        GRE => Some(("GRE", gre(payload)?)),
        17 => udp_tunnel(payload),
        _ => None,
    }
}

fn short(layer: &'static str, have: usize, need: usize) -> Link<'static> {
    Link::Short { layer, have, need }
}

/// An IP packet named by an EtherType-like protocol field, or a whole Ethernet frame.
fn by_ethertype(et: u16, rest: &[u8]) -> Link<'_> {
    match et {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Link::Ip(rest),
        ETHERTYPE_TEB => Link::Ethernet(rest),
        // Opened by the caller, one layer deeper (so the depth bound counts it).
        _ if opens_ethertype(et) => Link::EtherType(et, rest),
        _ => Link::NonIp,
    }
}

/// An MPLS label stack (4 bytes a label, the last with its bottom-of-stack bit), then
/// IPv4 or IPv6 by the version nibble (as Wireshark guesses; a pseudowire's control word
/// starts with 0 and is not opened).
fn mpls(d: &[u8]) -> Link<'_> {
    let mut rest = d;
    loop {
        let Some((label, after)) = rest.split_first_chunk::<4>() else {
            return short("MPLS", rest.len(), 4);
        };
        rest = after;
        if label[2] & 1 == 1 {
            break;
        }
    }
    ip_by_version(rest)
}

/// A PPPoE session header (version/type, code, session id, length), then PPP's
/// protocol. The length bounds the payload (Ethernet may pad a short frame).
fn pppoe(d: &[u8]) -> Link<'_> {
    let Some((h, rest)) = d.split_first_chunk::<6>() else {
        return short("PPPoE", d.len(), 6);
    };
    let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
    ppp_protocol(&rest[..len.min(rest.len())])
}

/// PPP in HDLC-like framing: the address and control bytes (0xFF 0x03) when present,
/// then the protocol.
fn ppp(d: &[u8]) -> Link<'_> {
    ppp_protocol(d.strip_prefix(&[0xFF, 0x03]).unwrap_or(d))
}

/// PPP's protocol field (one byte when compressed: its low bit is set), then the
/// datagram: IPv4 (0x21) or IPv6 (0x57).
fn ppp_protocol(d: &[u8]) -> Link<'_> {
    let (proto, rest) = match d {
        [p, rest @ ..] if p & 1 == 1 => (u16::from(*p), rest),
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => return short("PPP", d.len(), 2),
    };
    match proto {
        0x21 | 0x57 => Link::Ip(rest),
        _ => Link::NonIp,
    }
}

/// GRE (RFC 2784/2890), version 0: the optional checksum, key and sequence words, then
/// the protocol type's payload. ERSPAN type II and III mirror whole Ethernet frames
/// behind their own header (type I, without a sequence number, has none).
fn gre(d: &[u8]) -> Option<Link<'_>> {
    let h = d.first_chunk::<4>()?;
    let (flags, version) = (h[0], h[1] & 0x07);
    // Routing present (RFC 1701, obsolete) or another version (1: PPTP): not opened.
    if version != 0 || flags & 0x40 != 0 {
        return None;
    }
    let words = [0x80u8, 0x20, 0x10]
        .iter()
        .filter(|&&bit| flags & bit != 0)
        .count();
    let at = 4 + 4 * words;
    let Some(rest) = d.get(at..) else {
        return Some(short("GRE", d.len(), at));
    };
    let seq = flags & 0x10 != 0;
    Some(match u16::from_be_bytes([h[2], h[3]]) {
        ETHERTYPE_ERSPAN_2 if seq => erspan(rest, 8),
        ETHERTYPE_ERSPAN_2 => Link::Ethernet(rest),
        ETHERTYPE_ERSPAN_3 => {
            // The O bit (last byte's low bit) announces an 8-byte platform subheader.
            let optional = rest.get(11).is_some_and(|b| b & 1 == 1);
            erspan(rest, if optional { 20 } else { 12 })
        }
        et => by_ethertype(et, rest),
    })
}

/// The Ethernet frame after an ERSPAN header of `len` bytes.
fn erspan(d: &[u8], len: usize) -> Link<'_> {
    match d.get(len..) {
        Some(frame) => Link::Ethernet(frame),
        None => short("ERSPAN", d.len(), len),
    }
}

/// A UDP datagram to or from a tunnel's port: what it carries (an Ethernet frame for
/// VXLAN, the protocol type's payload for Geneve, an IP packet for GTP-U and Teredo);
/// `None` for any other UDP.
fn udp_tunnel(d: &[u8]) -> Option<(&'static str, Link<'_>)> {
    let h = d.first_chunk::<8>()?;
    let (src, dst) = (
        u16::from_be_bytes([h[0], h[1]]),
        u16::from_be_bytes([h[2], h[3]]),
    );
    let name = tunnel_port(src, dst)?;
    let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
    let body = &d[8..len.clamp(8, d.len())];
    Some((
        name,
        match name {
            "VXLAN" => vxlan(body),
            "Geneve" => geneve_payload(body),
            "GTP-U" => gtp_u(body),
            _ => teredo(body),
        },
    ))
}

/// GTP-U (3GPP TS 29.281), version 1: a G-PDU (message type 255) carries a user's IP
/// packet after 8 bytes, 4 more when any of the E, S, PN flags is set, and the extension
/// headers the E flag chains (each its length in 4-byte units, the next type last).
fn gtp_u(d: &[u8]) -> Link<'_> {
    let Some(h) = d.first_chunk::<8>() else {
        return short("GTP-U", d.len(), 8);
    };
    if h[0] >> 5 != 1 || h[0] & 0x10 == 0 || h[1] != 0xFF {
        return Link::NonIp;
    }
    let mut at = 8;
    if h[0] & 0x07 != 0 {
        let Some(&next) = d.get(11) else {
            return short("GTP-U", d.len(), 12);
        };
        at = 12;
        let mut next = if h[0] & 0x04 != 0 { next } else { 0 };
        // Each extension is at least 4 bytes, so the bytes bound the loop.
        while next != 0 {
            let Some(&units) = d.get(at).filter(|&&u| u > 0) else {
                return short("GTP-U extension", d.len().saturating_sub(at), 4);
            };
            let end = at + 4 * usize::from(units);
            let Some(&n) = d.get(end - 1) else {
                return short("GTP-U extension", d.len() - at, end - at);
            };
            (at, next) = (end, n);
        }
    }
    ip_by_version(&d[at.min(d.len())..])
}

/// Teredo (RFC 4380): IPv6 in UDP, after an optional authentication indicator (type 1:
/// id and value lengths, then a nonce and a confirmation byte) and an optional origin
/// indication (type 0, 8 bytes).
fn teredo(d: &[u8]) -> Link<'_> {
    let mut rest = d;
    if let [0, 1, id, au, ..] = *rest {
        let len = 4 + usize::from(id) + usize::from(au) + 9;
        let Some(after) = rest.get(len..) else {
            return short("Teredo authentication", rest.len(), len);
        };
        rest = after;
    }
    if let [0, 0, ..] = *rest {
        let Some(after) = rest.get(8..) else {
            return short("Teredo origin", rest.len(), 8);
        };
        rest = after;
    }
    match rest.first().map(|b| b >> 4) {
        Some(6) => Link::Ip(rest),
        _ => Link::NonIp,
    }
}

/// IPv4 or IPv6 by the version nibble; anything else is not IP.
fn ip_by_version(d: &[u8]) -> Link<'_> {
    match d.first().map(|b| b >> 4) {
        Some(4 | 6) => Link::Ip(d),
        Some(_) => Link::NonIp,
        None => short("tunnelled IP", 0, 1),
    }
}

/// VXLAN (RFC 7348): 8 bytes with the I flag (a valid VNI), then an Ethernet frame.
fn vxlan(d: &[u8]) -> Link<'_> {
    match d.split_first_chunk::<8>() {
        Some((h, frame)) if h[0] & 0x08 != 0 => Link::Ethernet(frame),
        Some(_) => Link::NonIp,
        None => short("VXLAN", d.len(), 8),
    }
}

/// Geneve (RFC 8926): version 0, 8 bytes plus its options, then the protocol type's
/// payload.
fn geneve_payload(d: &[u8]) -> Link<'_> {
    let Some(h) = d.first_chunk::<8>() else {
        return short("Geneve", d.len(), 8);
    };
    if h[0] >> 6 != 0 {
        return Link::NonIp;
    }
    let at = 8 + 4 * usize::from(h[0] & 0x3F);
    match d.get(at..) {
        Some(rest) => by_ethertype(u16::from_be_bytes([h[2], h[3]]), rest),
        None => short("Geneve", d.len(), at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: [u8; 4] = [0x45, 0, 0, 20];

    #[test]
    fn an_mpls_stack_is_read_to_its_bottom_label() {
        let two = [[0u8, 0x64, 0x00, 64], [0, 0xC8, 0x01, 64]].concat();
        assert_eq!(mpls(&[two.as_slice(), &IP].concat()), Link::Ip(&IP));
        // No bottom of stack before the bytes end; a control word (0) is not IP.
        assert!(matches!(mpls(&[0, 0x64, 0, 64]), Link::Short { .. }));
        assert_eq!(mpls(&[0, 0x64, 1, 64, 0, 0, 0, 0]), Link::NonIp);
    }

    #[test]
    fn pppoe_and_ppp_carry_ip_by_protocol() {
        let frame = [
            [0x11u8, 0, 0x12, 0x34, 0, 6, 0, 0x21].as_slice(),
            &IP,
            &[0; 4],
        ]
        .concat();
        // The length (6: protocol + 4 bytes) drops the Ethernet padding after them.
        assert_eq!(pppoe(&frame), Link::Ip(&IP));
        assert_eq!(
            ppp(&[[0xFFu8, 0x03, 0x00, 0x21].as_slice(), &IP].concat()),
            Link::Ip(&IP)
        );
        assert_eq!(ppp(&[[0x57u8].as_slice(), &IP].concat()), Link::Ip(&IP));
        assert_eq!(ppp(&[0xC0, 0x21, 1, 2]), Link::NonIp);
    }

    #[test]
    fn wifi_data_frames_carry_ip_behind_llc_snap() {
        let snap = [0xAAu8, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00];
        // QoS data (subtype 8) from the AP (FromDS): 26 bytes of header.
        let qos = [&[0x88u8, 0x02][..], &[0; 24], &snap, &IP].concat();
        assert_eq!(wifi(&qos), Link::Ip(&IP));
        // Four addresses (ToDS and FromDS), plain data: 30 bytes.
        let wds = [&[0x08u8, 0x03][..], &[0; 28], &snap, &IP].concat();
        assert_eq!(wifi(&wds), Link::Ip(&IP));
        // Protected, a beacon, null data: nothing readable.
        assert_eq!(
            wifi(&[&[0x08u8, 0x41][..], &[0; 22], &snap, &IP].concat()),
            Link::NonIp
        );
        assert_eq!(wifi(&[0x80, 0, 0, 0]), Link::NonIp);
        assert_eq!(wifi(&[0x48, 0x01, 0, 0]), Link::NonIp);
        let radiotap = [&[0u8, 0, 8, 0, 0, 0, 0, 0][..], &qos].concat();
        assert_eq!(
            strip_link(LINKTYPE_IEEE802_11_RADIOTAP, &radiotap),
            Link::Ip(&IP)
        );
    }

    #[test]
    fn gre_skips_its_optional_words_and_opens_erspan() {
        let keyed = [[0x20u8, 0, 0x08, 0x00, 0, 0, 0, 7].as_slice(), &IP].concat();
        assert_eq!(gre(&keyed), Some(Link::Ip(&IP)));
        let eth = [0xAAu8; 14];
        let erspan2 = [
            [0x10u8, 0, 0x88, 0xBE, 0, 0, 0, 1].as_slice(),
            &[0; 8],
            &eth,
        ]
        .concat();
        assert_eq!(gre(&erspan2), Some(Link::Ethernet(&eth)));
        // Version 1 (PPTP) and routing are not opened.
        assert_eq!(gre(&[0x30, 0x01, 0x88, 0x0B, 0, 0, 0, 0]), None);
        assert_eq!(gre(&[0x40, 0, 0x08, 0, 0, 0, 0, 0]), None);
        assert!(matches!(gre(&[0x80, 0, 0x08, 0]), Some(Link::Short { .. })));
    }

    #[test]
    fn vxlan_and_geneve_open_only_on_their_ports() {
        let eth = [0xAAu8; 14];
        let mut vx = vec![
            0x30, 0x39, 0x12, 0xB5, 0, 30, 0, 0, 0x08, 0, 0, 0, 0, 0, 1, 0,
        ];
        vx.extend_from_slice(&eth);
        assert_eq!(udp_tunnel(&vx), Some(("VXLAN", Link::Ethernet(&eth))));
        vx[2..4].copy_from_slice(&53u16.to_be_bytes());
        assert_eq!(udp_tunnel(&vx), None);
        // GTP-U with a sequence number and one 4-byte extension header; Teredo with an
        // origin indication.
        let v6 = [0x60u8, 0, 0, 0];
        let gtp = [
            &[0x36u8, 0xFF, 0, 16, 0, 0, 0, 1, 0, 7, 0, 0x85, 1, 0, 0, 0][..],
            &v6,
        ]
        .concat();
        assert_eq!(gtp_u(&gtp), Link::Ip(&v6));
        assert_eq!(gtp_u(&[0x30, 0x01, 0, 0, 0, 0, 0, 0]), Link::NonIp);
        let ter = [&[0u8, 0, 1, 2, 3, 4, 5, 6][..], &v6].concat();
        assert_eq!(teredo(&ter), Link::Ip(&v6));
        assert_eq!(teredo(&[0x45, 0, 0, 20]), Link::NonIp);
        let mut gv = vec![
            0x30, 0x39, 0x17, 0xC1, 0, 34, 0, 0, 0x01, 0, 0x65, 0x58, 0, 0, 1, 0,
        ];
        gv.extend_from_slice(&[0; 4]);
        gv.extend_from_slice(&eth);
        assert_eq!(udp_tunnel(&gv), Some(("Geneve", Link::Ethernet(&eth))));
    }
}
