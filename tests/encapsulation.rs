//! Connections carried inside an encapsulation: an MPLS label stack, a PPPoE session, the
//! PPP, Cisco HDLC and 802.11 (radiotap) link types, GRE (with its key and sequence words, and ERSPAN
//! mirroring whole frames), IPv4 and IPv6 in IP, VXLAN, Geneve, GTP-U and Teredo. Each capture holds one
//! whole HTTP exchange (handshake, request, response, both FINs) wrapped the same way;
//! the report must show that inner connection exactly as it shows it unwrapped, say how
//! many packets were inside which tunnel, and shard it the same on several workers.
//! Before, every one of these captures reported no connection ("non_ip 9", "other_ip 9").

mod common;

use etherparse::{IpNumber, PacketBuilder};
use serde_json::Value;
use std::path::PathBuf;

const CLIENT: [u8; 4] = [10, 9, 0, 1];
const SERVER: [u8; 4] = [10, 9, 0, 2];
const CLIENT6: [u8; 16] = [0xfd, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const SERVER6: [u8; 16] = [0xfd, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const REQUEST: &[u8] = b"GET /tunnel HTTP/1.1\r\nHost: inner\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
/// SHA-256 of "hello".
const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

/// The exchange as bare IP packets (IPv4, or IPv6 when `v6`): nine segments.
fn inner_packets(v6: bool) -> Vec<Vec<u8>> {
    let (c, s) = (40000u16, 80u16);
    let (ci, si) = (1000u32, 5000u32);
    let (q, r) = (REQUEST.len() as u32, RESPONSE.len() as u32);
    // (from client, seq, ack, flags, payload)
    let segs: [(bool, u32, u32, &str, &[u8]); 9] = [
        (true, ci, 0, "S", b""),
        (false, si, ci + 1, "SA", b""),
        (true, ci + 1, si + 1, "A", b""),
        (true, ci + 1, si + 1, "PA", REQUEST),
        (false, si + 1, ci + 1 + q, "PA", RESPONSE),
        (true, ci + 1 + q, si + 1 + r, "A", b""),
        (true, ci + 1 + q, si + 1 + r, "FA", b""),
        (false, si + 1 + r, ci + 2 + q, "FA", b""),
        (true, ci + 2 + q, si + 2 + r, "A", b""),
    ];
    segs.iter()
        .map(|&(from_client, seq, ack, flags, data)| {
            let b = match (v6, from_client) {
                (false, true) => PacketBuilder::ipv4(CLIENT, SERVER, 64),
                (false, false) => PacketBuilder::ipv4(SERVER, CLIENT, 64),
                (true, true) => PacketBuilder::ipv6(CLIENT6, SERVER6, 64),
                (true, false) => PacketBuilder::ipv6(SERVER6, CLIENT6, 64),
            };
            let (sp, dp) = if from_client { (c, s) } else { (s, c) };
            let mut t = b.tcp(sp, dp, seq, 64240);
            if flags.contains('S') {
                t = t.syn();
            }
            if flags.contains('A') {
                t = t.ack(ack);
            }
            if flags.contains('P') {
                t = t.psh();
            }
            if flags.contains('F') {
                t = t.fin();
            }
            let mut out = Vec::new();
            t.write(&mut out, data).unwrap();
            out
        })
        .collect()
}

fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = [[2u8; 6], [4u8; 6]].concat();
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An outer IPv4 packet (192.168.77.1 -> .2) of protocol `proto` around `payload`.
fn outer_ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([192, 168, 77, 1], [192, 168, 77, 2], 64)
        .write(&mut out, IpNumber(proto), payload)
        .unwrap();
    out
}

/// An outer Ethernet + IPv4 + UDP datagram to `port` around `payload`.
fn outer_udp(port: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2([2; 6], [4; 6])
        .ipv4([192, 168, 77, 1], [192, 168, 77, 2], 64)
        .udp(49152, port)
        .write(&mut out, payload)
        .unwrap();
    out
}

/// A classic microsecond pcap of link type `linktype`, a frame every millisecond.
fn write_pcap(name: &str, linktype: u32, frames: &[Vec<u8>]) -> PathBuf {
    let mut b = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, linktype] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for (i, f) in frames.iter().enumerate() {
        let len = f.len() as u32;
        for v in [1_700_000_000, i as u32 * 1000, len, len] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(f);
    }
    let dir = std::env::temp_dir().join(format!("tcpscope-encap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.pcap"));
    std::fs::write(&p, b).unwrap();
    p
}

fn report(path: &std::path::Path, threads: &str) -> Value {
    common::json(common::pcap::report(path, "json", &["--threads", threads]).as_bytes())
}

/// One wrapping of the exchange: (name, link type, frames, v6, the tunnel counted).
type Wrapped = (&'static str, u32, Vec<Vec<u8>>, bool, Option<&'static str>);

/// Every wrapping of the same exchange.
fn wrapped() -> Vec<Wrapped> {
    let v4 = inner_packets(false);
    let v6 = inner_packets(true);
    let map = |v: &[Vec<u8>], f: &dyn Fn(&[u8]) -> Vec<u8>| v.iter().map(|p| f(p)).collect();
    let inner_eth = |p: &[u8]| ethernet(0x0800, p);
    vec![
        (
            "mpls-two-labels",
            1,
            map(&v4, &|p| {
                ethernet(0x8847, &[&[0, 0x64, 0, 64], &[0, 0xC8, 1, 64], p].concat())
            }),
            false,
            Some("MPLS"),
        ),
        (
            "vlan-then-mpls-ipv6",
            1,
            map(&v6, &|p| {
                let tag = [0u8, 42, 0x88, 0x47];
                ethernet(0x8100, &[&tag[..], &[0, 0x64, 1, 64], p].concat())
            }),
            true,
            Some("MPLS"),
        ),
        (
            "pppoe-session",
            1,
            map(&v4, &|p| {
                let len = (p.len() + 2) as u16;
                let h = [0x11, 0, 0x12, 0x34, (len >> 8) as u8, len as u8, 0, 0x21];
                ethernet(0x8864, &[&h[..], p].concat())
            }),
            false,
            Some("PPPoE"),
        ),
        (
            "ppp-link",
            9,
            map(&v4, &|p| [&[0xFF, 0x03, 0x00, 0x21], p].concat()),
            false,
            None,
        ),
        (
            "ppp-link-ipv6-compressed",
            9,
            map(&v6, &|p| [&[0x57], p].concat()),
            true,
            None,
        ),
        (
            "cisco-hdlc",
            104,
            map(&v4, &|p| [&[0x0F, 0x00, 0x08, 0x00], p].concat()),
            false,
            None,
        ),
        (
            "gre-key-and-sequence",
            1,
            map(&v4, &|p| {
                let gre = [&[0x30, 0, 0x08, 0x00, 0, 0, 0, 7, 0, 0, 0, 1][..], p].concat();
                ethernet(0x0800, &outer_ipv4(47, &gre))
            }),
            false,
            Some("GRE"),
        ),
        (
            "gre-carrying-mpls",
            1,
            map(&v4, &|p| {
                let gre = [&[0, 0, 0x88, 0x47, 0, 0x64, 1, 64][..], p].concat();
                ethernet(0x0800, &outer_ipv4(47, &gre))
            }),
            false,
            Some("GRE"),
        ),
        (
            "gre-erspan-type-2",
            1,
            map(&v4, &|p| {
                let erspan = [0x10, 0, 0x88, 0xBE, 0, 0, 0, 9, 0x10, 0, 0, 0, 0, 0, 0, 0];
                let gre = [&erspan[..], &inner_eth(p)].concat();
                ethernet(0x0800, &outer_ipv4(47, &gre))
            }),
            false,
            Some("GRE"),
        ),
        (
            "ipv4-in-ipv4",
            1,
            map(&v4, &|p| ethernet(0x0800, &outer_ipv4(4, p))),
            false,
            Some("IPv4 in IP"),
        ),
        (
            "ipv6-in-ipv4",
            1,
            map(&v6, &|p| ethernet(0x0800, &outer_ipv4(41, p))),
            true,
            Some("IPv6 in IP"),
        ),
        (
            "vxlan",
            1,
            map(&v4, &|p| {
                outer_udp(
                    4789,
                    &[&[0x08, 0, 0, 0, 0, 0, 0x2A, 0][..], &inner_eth(p)].concat(),
                )
            }),
            false,
            Some("VXLAN"),
        ),
        (
            "geneve-with-an-option",
            1,
            map(&v4, &|p| {
                let h = [0x01, 0, 0x65, 0x58, 0, 0, 0x2A, 0, 0x01, 0x02, 0x03, 0x00];
                outer_udp(6081, &[&h[..], &inner_eth(p)].concat())
            }),
            false,
            Some("Geneve"),
        ),
        (
            "wifi-radiotap-qos-data",
            127,
            map(&v4, &|p| {
                let radiotap = [0u8, 0, 8, 0, 0, 0, 0, 0];
                let qos = [
                    &[0x88u8, 0x01][..],
                    &[0; 24],
                    &[0xAA, 0xAA, 3, 0, 0, 0, 8, 0],
                ]
                .concat();
                [&radiotap[..], &qos, p].concat()
            }),
            false,
            None,
        ),
        (
            "wifi-plain-data-ipv6",
            105,
            map(&v6, &|p| {
                [
                    &[0x08u8, 0x02][..],
                    &[0; 22],
                    &[0xAA, 0xAA, 3, 0, 0, 0, 0x86, 0xDD],
                    p,
                ]
                .concat()
            }),
            true,
            None,
        ),
        (
            "gtp-u-with-sequence",
            1,
            map(&v4, &|p| {
                let len = (p.len() + 4) as u16;
                let h = [
                    0x32,
                    0xFF,
                    (len >> 8) as u8,
                    len as u8,
                    0,
                    0,
                    0,
                    5,
                    0,
                    1,
                    0,
                    0,
                ];
                outer_udp(2152, &[&h[..], p].concat())
            }),
            false,
            Some("GTP-U"),
        ),
        (
            "teredo-with-origin",
            1,
            map(&v6, &|p| {
                outer_udp(3544, &[&[0, 0, 0x8C, 0x9F, 1, 2, 3, 4][..], p].concat())
            }),
            true,
            Some("Teredo"),
        ),
    ]
}

#[test]
fn every_encapsulation_shows_the_inner_connection_whole() {
    for (name, linktype, frames, v6, tunnel) in wrapped() {
        let path = write_pcap(name, linktype, &frames);
        let v = report(&path, "1");
        let cap = &v["capture"];
        assert_eq!(cap["packets"], 9, "{name}");
        assert_eq!(cap["tcp_packets"], 9, "{name}: {cap}");
        assert_eq!(cap["skipped"], serde_json::json!({}), "{name}");
        let expected = tunnel.map(|t| serde_json::json!({ t: 9 }));
        assert_eq!(cap.get("encapsulated"), expected.as_ref(), "{name}");
        let conns = v["connections"].as_array().unwrap();
        assert_eq!(conns.len(), 1, "{name}");
        let c = &conns[0];
        let (client, server) = if v6 {
            ("[fd00:900::1]:40000", "[fd00:900::2]:80")
        } else {
            ("10.9.0.1:40000", "10.9.0.2:80")
        };
        assert_eq!(
            (c["client"].as_str(), c["server"].as_str()),
            (Some(client), Some(server)),
            "{name}"
        );
        assert_eq!(c["handshake"]["outcome"], "complete", "{name}");
        assert_eq!(c["conn_state"], "SF", "{name}");
        assert_eq!(c["handshake"]["irtt_ms"], 2.0, "{name}");
        let x = &c["http"][0];
        assert_eq!(x["request"]["uri"], "/tunnel", "{name}");
        assert_eq!(x["request"]["frame"], 4, "{name}");
        assert_eq!(x["response"]["status"], 200, "{name}");
        assert_eq!(x["response"]["body_sha256"], HELLO_SHA256, "{name}: {x}");
        // Sharded over two workers (the reader decodes the frame to pick one), the same.
        assert_eq!(report(&path, "2"), v, "{name}");
        // Wireshark reads the same: nine TCP segments of one stream, the one request.
        if let Some(t) = tshark_tcp(&path) {
            let want: Vec<String> = (0..9)
                .map(|i| format!("0\t{}", if i == 3 { "/tunnel" } else { "" }))
                .collect();
            assert_eq!(t, want, "{name}: tshark");
        }
    }
}

/// tshark's `tcp.stream` and `http.request.uri` of each TCP frame; None without tshark.
fn tshark_tcp(path: &std::path::Path) -> Option<Vec<String>> {
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args([
            "-Y",
            "tcp",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "http.request.uri",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.lines().map(str::to_string).collect())
}

/// A GRE packet inside GRE inside GRE ... 40 deep: opened to a bound and no further
/// (no stack exhaustion, no connection made up from the innermost bytes).
#[test]
fn tunnels_nested_past_the_bound_are_not_opened() {
    let mut p = inner_packets(false)[0].clone();
    for _ in 0..40 {
        p = outer_ipv4(47, &[&[0u8, 0, 0x08, 0x00][..], &p].concat());
    }
    let path = write_pcap("gre-40-deep", 1, &[ethernet(0x0800, &p)]);
    let v = report(&path, "2");
    assert_eq!(v["capture"]["tcp_packets"], 0);
    assert_eq!(v["capture"]["skipped"]["other_ip"], 1);
    assert_eq!(v["capture"]["encapsulated"]["GRE"], 1);
    assert_eq!(v["connections"].as_array().map(Vec::len), Some(0));
}

/// What a tunnel does not carry as IP stays what it was: GRE with PPTP's version, UDP to
/// another port or not what its port names, an MPLS pseudowire's control word (the label stack was opened, so it
/// counts as MPLS; what is behind it is not IP).
#[test]
fn what_is_not_a_tunnel_of_ip_stays_as_it_was() {
    let ip = &inner_packets(false)[0];
    let frames = vec![
        ethernet(
            0x0800,
            &outer_ipv4(
                47,
                &[&[0x30, 0x01, 0x88, 0x0B, 0, 0, 0, 0][..], ip].concat(),
            ),
        ),
        outer_udp(
            53,
            &[&[0x08, 0, 0, 0, 0, 0, 0x2A, 0][..], &ethernet(0x0800, ip)].concat(),
        ),
        ethernet(0x8847, &[&[0, 0x64, 1, 64, 0, 0, 0, 0][..], ip].concat()),
        // Any UDP on a tunnel's port: not GTP-U, or "IPv6" that does not read as IPv6.
        outer_udp(2152, b"not gtp at all"),
        outer_udp(3544, &[0x60, 0, 0, 0, 0xFF, 0xFF]),
    ];
    let v = report(&write_pcap("not-tunnels", 1, &frames), "1");
    let cap = &v["capture"];
    assert_eq!(cap["tcp_packets"], 0);
    assert_eq!(
        cap["skipped"],
        serde_json::json!({"other_ip": 1, "udp": 3, "non_ip": 1})
    );
    assert_eq!(cap["encapsulated"], serde_json::json!({"MPLS": 1}), "{cap}");
}

/// A real VXLAN tunnel (captures/record-tunnels.sh: the Linux kernel's VXLAN between two
/// namespaces, captured on the underlay): the download inside is whole, its bodies hash
/// to the served files, at the frames where tshark completes them, on 1 and 2 workers.
#[test]
fn a_download_through_a_kernel_vxlan_tunnel_is_whole() {
    let path = common::bundled("vxlan-tunnel-download.pcap");
    let served = std::fs::read_to_string(common::bundled("tunnels-served-sha256.txt")).unwrap();
    let sha = |name: &str| {
        let line = served.lines().find(|l| l.ends_with(name)).unwrap();
        line.split_whitespace().next().unwrap().to_string()
    };
    for threads in ["1", "2"] {
        let v = report(&path, threads);
        let cap = &v["capture"];
        assert_eq!(cap["packets"], 77);
        assert_eq!(cap["tcp_packets"], 77);
        assert_eq!(cap["encapsulated"], serde_json::json!({"VXLAN": 77}));
        let c = &v["connections"][0];
        assert_eq!(v["connections"].as_array().map(Vec::len), Some(1));
        assert_eq!(c["server"], "172.31.0.2:80");
        assert_eq!(c["conn_state"], "SF");
        assert_eq!(
            c["payload_bytes"],
            serde_json::json!({"client": 165, "server": 60497})
        );
        let got: Vec<(String, u64, String)> = c["http"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                let r = &x["response"];
                let uri = x["request"]["uri"].as_str().unwrap().to_string();
                (
                    uri,
                    r["end_frame"].as_u64().unwrap(),
                    r["body_sha256"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want = vec![
            ("/blob.bin".to_string(), 70, sha("blob.bin")),
            ("/small.txt".to_string(), 74, sha("small.txt")),
        ];
        assert_eq!(got, want, "threads {threads}");
    }
}
