//! Sharding keys against the decoder, and damaged frames.

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
    let eth = |et: u16, body: &[u8]| [&v4[..12], &et.to_be_bytes(), body].concat();
    let outer = |proto: u8, body: &[u8]| {
        let mut o = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
            .write(&mut o, IpNumber(proto), body)
            .unwrap();
        o
    };
    let mut vxlan = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64)
        .udp(50000, 4789)
        .write(&mut vxlan, &[&[8u8, 0, 0, 0, 0, 0, 1, 0][..], &v6].concat())
        .unwrap();
    vec![
        (1, v4.clone()),
        (1, v6.clone()),
        (1, vlan2),
        (101, v4[14..].to_vec()),
        (113, sll),
        (0, null),
        (
            1,
            eth(0x8847, &[&[0u8, 0x64, 1, 64][..], &v4[14..]].concat()),
        ),
        (
            1,
            eth(
                0x8864,
                &[&[0x11u8, 0, 0, 1, 0, 42, 0, 0x21][..], &v4[14..]].concat(),
            ),
        ),
        (
            1,
            outer(
                47,
                &[
                    &[0x30u8, 0, 0x86, 0xDD, 0, 0, 0, 1, 0, 0, 0, 2][..],
                    &v6[14..],
                ]
                .concat(),
            ),
        ),
        (1, outer(4, &v4[14..])),
        (1, vxlan),
        (9, [&[0xFFu8, 0x03, 0x00, 0x21][..], &v4[14..]].concat()),
        (
            127,
            [
                &[0u8, 0, 8, 0, 0, 0, 0, 0, 0x08, 0x02][..],
                &[0; 22],
                &[0xAA, 0xAA, 3, 0, 0, 0, 8, 0],
                &v4[14..],
            ]
            .concat(),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn damaged_frames_agree_with_the_decoder(
        which in 0usize..13,
        edits in proptest::collection::vec((0usize..140, any::<u8>()), 0..4),
        cut in proptest::option::of(0usize..140),
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
