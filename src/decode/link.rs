//! Link-layer headers etherparse does not read itself: Linux cooked capture v1 (SLL) and
//! v2 (SLL2), BSD loopback NULL and LOOP. Everything else is routed by link type.

/// What lies after the link header.
#[derive(Debug, PartialEq, Eq)]
pub enum Link<'a> {
    /// A whole Ethernet II frame (etherparse reads it, VLAN tags included).
    Ethernet(&'a [u8]),
    /// The payload of a link header that carries an EtherType.
    EtherType(u16, &'a [u8]),
    /// A bare IPv4 or IPv6 packet.
    Ip(&'a [u8]),
    /// A link header for something that is not IP or ARP.
    NonIp,
    Short {
        layer: &'static str,
        have: usize,
        need: usize,
    },
    Unsupported,
}

pub const LINKTYPE_NULL: u32 = 0;
pub const LINKTYPE_ETHERNET: u32 = 1;
pub const LINKTYPE_RAW: u32 = 101;
pub const LINKTYPE_LOOP: u32 = 108;
pub const LINKTYPE_LINUX_SLL: u32 = 113;
pub const LINKTYPE_IPV4: u32 = 228;
pub const LINKTYPE_IPV6: u32 = 229;
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// Whether tcpscope reads this link type.
pub fn supported(linktype: u32) -> bool {
    matches!(
        linktype,
        LINKTYPE_NULL
            | LINKTYPE_ETHERNET
            | LINKTYPE_RAW
            | 12
            | 14
            | LINKTYPE_LOOP
            | LINKTYPE_LINUX_SLL
            | LINKTYPE_IPV4
            | LINKTYPE_IPV6
            | LINKTYPE_LINUX_SLL2
            | super::encap::LINKTYPE_PPP
            | super::encap::LINKTYPE_PPP_HDLC
            | super::encap::LINKTYPE_PPP_ETHER
            | super::encap::LINKTYPE_C_HDLC
            | super::encap::LINKTYPE_IEEE802_11
            | super::encap::LINKTYPE_IEEE802_11_RADIOTAP
    )
}

pub fn strip(linktype: u32, d: &[u8]) -> Link<'_> {
    match linktype {
        LINKTYPE_ETHERNET => Link::Ethernet(d),
        LINKTYPE_RAW | 12 | 14 | LINKTYPE_IPV4 | LINKTYPE_IPV6 => Link::Ip(d),
        LINKTYPE_NULL | LINKTYPE_LOOP => null_loop(d),
        LINKTYPE_LINUX_SLL => sll(d),
        LINKTYPE_LINUX_SLL2 => sll2(d),
        _ => super::encap::strip_link(linktype, d),
    }
}

/// BSD loopback: a 4-byte address family, in the writer's byte order for NULL and network
/// order for LOOP; files exist with either, so both orders are tried.
fn null_loop(d: &[u8]) -> Link<'_> {
    let Some((fam, rest)) = d.split_first_chunk::<4>() else {
        return Link::Short {
            layer: "loopback",
            have: d.len(),
            need: 4,
        };
    };
    let le = u32::from_le_bytes(*fam);
    let be = u32::from_be_bytes(*fam);
    let family = if le < 256 { le } else { be };
    match family {
        // AF_INET everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD),
        // 30 (macOS), 23 (Windows).
        2 | 10 | 23 | 24 | 28 | 30 => Link::Ip(rest),
        _ => Link::NonIp,
    }
}

/// Map an SLL protocol field to what follows. For ARPHRD_ETHER-like devices the field is
/// an EtherType; loopback and tun devices also put the EtherType there.
fn sll_payload(protocol: u16, hatype: u16, rest: &[u8]) -> Link<'_> {
    // ARPHRD_IPGRE (778) carries a GRE protocol type; ARPHRD_NETLINK (824) carries netlink.
    if hatype == 824 {
        return Link::NonIp;
    }
    match protocol {
        0x0800 | 0x86DD | 0x0806 | 0x8100 | 0x88A8 | 0x9100 => Link::EtherType(protocol, rest),
        p if super::encap::opens_ethertype(p) => Link::EtherType(protocol, rest),
        _ => Link::NonIp,
    }
}

/// Linux cooked v1: packet type(2) ARPHRD type(2) address length(2) address(8) protocol(2).
fn sll(d: &[u8]) -> Link<'_> {
    let Some((h, rest)) = d.split_first_chunk::<16>() else {
        return Link::Short {
            layer: "Linux cooked (SLL)",
            have: d.len(),
            need: 16,
        };
    };
    let hatype = u16::from_be_bytes([h[2], h[3]]);
    let protocol = u16::from_be_bytes([h[14], h[15]]);
    sll_payload(protocol, hatype, rest)
}

/// Linux cooked v2: protocol(2) reserved(2) ifindex(4) ARPHRD type(2) packet type(1)
/// address length(1) address(8).
fn sll2(d: &[u8]) -> Link<'_> {
    let Some((h, rest)) = d.split_first_chunk::<20>() else {
        return Link::Short {
            layer: "Linux cooked v2 (SLL2)",
            have: d.len(),
            need: 20,
        };
    };
    let protocol = u16::from_be_bytes([h[0], h[1]]);
    let hatype = u16::from_be_bytes([h[8], h[9]]);
    sll_payload(protocol, hatype, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_family_in_either_byte_order() {
        let ip = [0x45u8, 0, 0, 20];
        let le = [[2u8, 0, 0, 0].as_slice(), &ip].concat();
        let be = [[0u8, 0, 0, 2].as_slice(), &ip].concat();
        let v6_bsd = [[0u8, 0, 0, 30].as_slice(), &ip].concat();
        assert_eq!(strip(LINKTYPE_NULL, &le), Link::Ip(&ip));
        assert_eq!(strip(LINKTYPE_LOOP, &be), Link::Ip(&ip));
        assert_eq!(strip(LINKTYPE_NULL, &v6_bsd), Link::Ip(&ip));
        assert_eq!(strip(LINKTYPE_NULL, &[7, 0, 0, 0]), Link::NonIp);
        assert!(matches!(strip(LINKTYPE_NULL, &[2, 0]), Link::Short { .. }));
    }

    #[test]
    fn sll_and_sll2_hand_over_by_ethertype() {
        let mut v1 = vec![0u8; 16];
        v1[2..4].copy_from_slice(&772u16.to_be_bytes()); // ARPHRD_LOOPBACK
        v1[14..16].copy_from_slice(&0x0800u16.to_be_bytes());
        v1.push(0x45);
        assert_eq!(
            strip(LINKTYPE_LINUX_SLL, &v1),
            Link::EtherType(0x0800, &[0x45])
        );
        let mut v2 = vec![0u8; 20];
        v2[0..2].copy_from_slice(&0x86DDu16.to_be_bytes());
        v2[8..10].copy_from_slice(&65534u16.to_be_bytes()); // ARPHRD_NONE (tun)
        v2.push(0x60);
        assert_eq!(
            strip(LINKTYPE_LINUX_SLL2, &v2),
            Link::EtherType(0x86DD, &[0x60])
        );
        assert!(matches!(
            strip(LINKTYPE_LINUX_SLL2, &v2[..10]),
            Link::Short { .. }
        ));
        assert!(matches!(
            strip(LINKTYPE_LINUX_SLL, &v1[..3]),
            Link::Short { .. }
        ));
    }

    #[test]
    fn unknown_link_type_is_reported_not_read() {
        assert_eq!(strip(147, &[1, 2, 3]), Link::Unsupported);
        assert!(!supported(147));
    }
}
