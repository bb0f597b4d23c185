//! A TCP segment sent in IPv4 fragments is analysed as the one segment it is, as
//! Wireshark reassembles it: here a 3,053-byte POST leaves the client in three fragments
//! (and, in a second capture, with the fragments out of order). Before, the request was
//! missing from the exchanges, its response had no request, and the server's ACK of it
//! was flagged "ACKed unseen segment".

mod common;

use serde_json::Value;
use std::path::PathBuf;

const CLIENT: [u8; 4] = [10, 7, 0, 1];
const SERVER: [u8; 4] = [10, 7, 0, 2];

fn checksum(h: &[u8]) -> u16 {
    let s: u32 = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    let s = (s & 0xFFFF) + (s >> 16);
    !(((s & 0xFFFF) + (s >> 16)) as u16)
}

/// An Ethernet frame with an IPv4 header (datagram `id`, fragment at `offset`, `more`
/// following) around `payload` (protocol TCP).
fn ip_frame(
    src: [u8; 4],
    dst: [u8; 4],
    id: u16,
    offset: usize,
    more: bool,
    payload: &[u8],
) -> Vec<u8> {
    let mut h = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0];
    h[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    let flags = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
    h[6..8].copy_from_slice(&flags.to_be_bytes());
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    let mut f = [[2u8; 6], [4u8; 6]].concat();
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&h);
    f.extend_from_slice(payload);
    f
}

/// A TCP header (no options, checksum over the pseudo-header) and its payload.
fn tcp(from_client: bool, seq: u32, ack: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    let (sp, dp, src, dst) = if from_client {
        (40000u16, 80u16, CLIENT, SERVER)
    } else {
        (80, 40000, SERVER, CLIENT)
    };
    let mut t = Vec::new();
    t.extend_from_slice(&sp.to_be_bytes());
    t.extend_from_slice(&dp.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xFA, 0xF0, 0, 0, 0, 0]);
    t.extend_from_slice(data);
    let mut pseudo = [src, dst].concat();
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&(t.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(&t);
    if pseudo.len() % 2 == 1 {
        pseudo.push(0);
    }
    let c = checksum(&pseudo);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

fn request() -> Vec<u8> {
    let body = vec![b'x'; 3000];
    [
        b"POST /up HTTP/1.1\r\nHost: f\r\nContent-Length: 3000\r\n\r\n".as_slice(),
        &body,
    ]
    .concat()
}

/// The whole exchange; the POST's segment in three fragments (1480, 1480 and the rest
/// bytes of the TCP segment), in the order `order` gives (indices 0..3).
fn capture(order: [usize; 3]) -> Vec<Vec<u8>> {
    const S: u8 = 0x02;
    const A: u8 = 0x10;
    const PA: u8 = 0x18;
    const FA: u8 = 0x11;
    let (c, s) = (1000u32, 5000u32);
    let req = request();
    let resp = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    let (q, r) = (req.len() as u32, resp.len() as u32);
    let seg = |fc, seq, ack, fl, d: &[u8]| {
        let (a, b) = if fc {
            (CLIENT, SERVER)
        } else {
            (SERVER, CLIENT)
        };
        ip_frame(a, b, 1, 0, false, &tcp(fc, seq, ack, fl, d))
    };
    let mut v = vec![
        seg(true, c, 0, S, b""),
        seg(false, s, c + 1, S | A, b""),
        seg(true, c + 1, s + 1, A, b""),
    ];
    let post = tcp(true, c + 1, s + 1, PA, &req);
    let pieces = [
        (0, &post[..1480]),
        (1480, &post[1480..2960]),
        (2960, &post[2960..]),
    ];
    for i in order {
        let (off, bytes) = pieces[i];
        v.push(ip_frame(CLIENT, SERVER, 0x4242, off, i < 2, bytes));
    }
    v.extend([
        seg(false, s + 1, c + 1 + q, PA, resp),
        seg(true, c + 1 + q, s + 1 + r, FA, b""),
        seg(false, s + 1 + r, c + 2 + q, FA, b""),
        seg(true, c + 2 + q, s + 2 + r, A, b""),
    ]);
    v
}

fn write(name: &str, frames: &[Vec<u8>]) -> PathBuf {
    let mut p = common::pcap::Pcap::new();
    for (i, f) in frames.iter().enumerate() {
        p.record(1_700_000_000_000_000_000 + i as i64 * 1_000_000, f);
    }
    p.write(&format!("{name}.pcap"))
}

fn report(path: &std::path::Path, threads: &str) -> Value {
    common::json(
        common::pcap::report(path, "json", &["--packets", "--threads", threads]).as_bytes(),
    )
}

#[test]
fn a_segment_sent_in_fragments_is_analysed_whole_in_any_order() {
    for (name, order) in [("in-order", [0, 1, 2]), ("out-of-order", [2, 0, 1])] {
        let path = write(&format!("fragments-{name}"), &capture(order));
        let v = report(&path, "1");
        let cap = &v["capture"];
        assert_eq!(cap["ip_fragments"], 3, "{name}");
        assert_eq!(cap["ip_datagrams_reassembled"], 1, "{name}");
        assert!(cap.get("fragments_given_up").is_none(), "{name}");
        let c = &v["connections"][0];
        assert_eq!(v["connections"].as_array().map(Vec::len), Some(1));
        assert_eq!(c["conn_state"], "SF", "{name}");
        assert_eq!(c["payload_bytes"]["client"], request().len(), "{name}");
        let x = &c["http"][0];
        assert_eq!(x["request"]["method"], "POST", "{name}");
        assert_eq!(x["request"]["uri"], "/up", "{name}");
        assert_eq!(x["request"]["body_bytes"], 3000, "{name}");
        // The segment is a packet of the last fragment's frame: 6 in both orders.
        assert_eq!(x["request"]["frame"], 6, "{name}");
        assert_eq!(x["response"]["status"], 201, "{name}");
        assert!(
            x["anomalies"].as_array().is_none_or(|a| a.is_empty()),
            "{x}"
        );
        // No analysis finding at all: nothing was lost or unseen.
        for p in c["packet_list"].as_array().expect("packets") {
            let flags = p["analysis"].as_array().map(Vec::len).unwrap_or(0);
            assert_eq!(flags, 0, "{name}: {p}");
        }
        let seg = c["packet_list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["frame"] == 6)
            .expect("the segment at frame 6");
        assert_eq!(seg["len"], request().len(), "{name}");
        // The reader puts fragments back together before it picks a worker: the same.
        assert_eq!(report(&path, "2"), v, "{name}");
        // Wireshark puts them back at the same frame.
        if let Some(uri) = tshark_uri(&path) {
            assert_eq!(uri, "6\t/up", "{name}");
        }
    }
}

/// A fragment that never comes: the datagram is given up (said so), the rest is shown.
#[test]
fn a_missing_fragment_is_counted_and_the_rest_still_shown() {
    let mut frames = capture([0, 1, 2]);
    frames.remove(4);
    let path = write("fragments-missing", &frames);
    for threads in ["1", "2"] {
        let v = report(&path, threads);
        assert_eq!(v["capture"]["ip_fragments"], 2);
        assert!(v["capture"].get("ip_datagrams_reassembled").is_none());
        assert_eq!(v["capture"]["fragments_given_up"], 1);
        let c = &v["connections"][0];
        assert_eq!(c["http"][0]["response"]["status"], 201);
    }
    let text = common::pcap::report(&path, "text", &[]);
    assert!(
        text.contains(
            "flagged     2 IP fragments (0 TCP segments put back together, 1 datagrams incomplete)"
        ),
        "{text}"
    );
}

/// `-w` of the connection keeps its fragments: read back, the segment is there again.
#[test]
fn writing_a_connection_keeps_its_fragments() {
    let path = write("fragments-write", &capture([0, 1, 2]));
    let out = path.with_file_name("fragments-written.pcap");
    let _ = std::fs::remove_file(&out);
    let o = out.to_str().unwrap();
    common::pcap::report(&path, "json", &["--conn", "1", "-w", o]);
    let v = report(&out, "1");
    assert_eq!(v["capture"]["packets"], 10);
    assert_eq!(v["connections"][0]["http"][0]["request"]["uri"], "/up");
}

/// A real download through a router that fragments (captures/record-fragments.sh): the
/// Linux kernel's fragments, put back together, give every body whole (their SHA-256 are
/// the served files'), at the frames where tshark completes them, with no finding.
#[test]
fn a_download_fragmented_by_a_real_router_is_whole() {
    let path = common::bundled("ipv4-fragmented-download.pcap");
    let served = std::fs::read_to_string(common::bundled("fragments-served-sha256.txt")).unwrap();
    let sha = |name: &str| {
        served
            .lines()
            .find(|l| l.ends_with(name))
            .and_then(|l| l.split_whitespace().next())
            .unwrap()
            .to_string()
    };
    for threads in ["1", "2"] {
        let v = report(&path, threads);
        let cap = &v["capture"];
        assert_eq!(
            (cap["packets"].as_u64(), cap["ip_fragments"].as_u64()),
            (Some(485), Some(416))
        );
        assert_eq!(cap["ip_datagrams_reassembled"], 140);
        assert!(cap.get("fragments_given_up").is_none());
        let c = &v["connections"][0];
        assert_eq!(c["conn_state"], "SF");
        assert_eq!(c["payload_bytes"]["server"], 200_743);
        let got: Vec<(String, u64, u64, String)> = c["http"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                let r = &x["response"];
                (
                    x["request"]["uri"].as_str().unwrap().to_string(),
                    r["end_frame"].as_u64().unwrap(),
                    r["body_bytes_wire"].as_u64().unwrap(),
                    r["body_sha256"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want = [
            ("/blob.bin", 234, 100_000, sha("blob.bin")),
            ("/small.txt", 237, 18, sha("small.txt")),
            ("/blob.bin", 482, 100_000, sha("blob.bin")),
        ]
        .map(|(u, f, n, h)| (u.to_string(), f, n, h));
        assert_eq!(got, want, "threads {threads}");
        let flagged: Vec<&Value> = c["packet_list"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["analysis"].as_array().is_some_and(|a| !a.is_empty()))
            .collect();
        assert!(flagged.is_empty(), "{flagged:?}");
    }
}

const CLIENT6: [u8; 16] = [0xfd, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const SERVER6: [u8; 16] = [0xfd, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// A TCP segment over IPv6 (checksum over the IPv6 pseudo-header).
fn tcp6(from_client: bool, seq: u32, ack: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    let (src, dst) = if from_client {
        (CLIENT6, SERVER6)
    } else {
        (SERVER6, CLIENT6)
    };
    let mut t = tcp(from_client, seq, ack, flags, data);
    t[16..18].copy_from_slice(&[0, 0]);
    let mut pseudo = [src, dst].concat();
    pseudo.extend_from_slice(&(t.len() as u32).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 6]);
    pseudo.extend_from_slice(&t);
    if pseudo.len() % 2 == 1 {
        pseudo.push(0);
    }
    let c = checksum(&pseudo);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

/// An Ethernet + IPv6 frame: `exts` (extension headers, their next-header bytes set
/// here), then `payload`; `frag`: a fragment header (offset, more, id) before it.
fn ip6_frame(
    from_client: bool,
    dest_opts: bool,
    frag: Option<(usize, bool, u32)>,
    payload: &[u8],
) -> Vec<u8> {
    let (src, dst) = if from_client {
        (CLIENT6, SERVER6)
    } else {
        (SERVER6, CLIENT6)
    };
    let mut chain: Vec<(u8, Vec<u8>)> = Vec::new();
    if dest_opts {
        chain.push((60, vec![0, 0, 1, 4, 0, 0, 0, 0]));
    }
    if let Some((off, more, id)) = frag {
        let mut f = vec![0, 0];
        f.extend_from_slice(&((((off / 8) as u16) << 3) | u16::from(more)).to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        chain.push((44, f));
    }
    let first = chain.first().map_or(6, |c| c.0);
    let mut exts = Vec::new();
    for i in 0..chain.len() {
        let mut e = chain[i].1.clone();
        e[0] = chain.get(i + 1).map_or(6, |c| c.0);
        exts.extend_from_slice(&e);
    }
    let mut f = [[2u8; 6], [4u8; 6]].concat();
    f.extend_from_slice(&[0x86, 0xDD, 0x60, 0, 0, 0]);
    f.extend_from_slice(&((exts.len() + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[first, 64]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&exts);
    f.extend_from_slice(payload);
    f
}

/// The exchange over IPv6, the POST in three fragments (a destination options header
/// before the fragment header when `dest_opts`), in the order `order` gives.
fn capture6(order: [usize; 3], dest_opts: bool) -> Vec<Vec<u8>> {
    let (c, s) = (1000u32, 5000u32);
    let req = request();
    let resp = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    let (q, r) = (req.len() as u32, resp.len() as u32);
    let seg = |fc, seq, ack, fl, d: &[u8]| ip6_frame(fc, false, None, &tcp6(fc, seq, ack, fl, d));
    let mut v = vec![
        seg(true, c, 0, 0x02, b""),
        seg(false, s, c + 1, 0x12, b""),
        seg(true, c + 1, s + 1, 0x10, b""),
    ];
    let post = tcp6(true, c + 1, s + 1, 0x18, &req);
    let pieces = [
        (0, &post[..1232]),
        (1232, &post[1232..2464]),
        (2464, &post[2464..]),
    ];
    for i in order {
        let (off, bytes) = pieces[i];
        v.push(ip6_frame(
            true,
            dest_opts,
            Some((off, i < 2, 0xBEEF)),
            bytes,
        ));
    }
    v.extend([
        seg(false, s + 1, c + 1 + q, 0x18, resp),
        seg(true, c + 1 + q, s + 1 + r, 0x11, b""),
        seg(false, s + 1 + r, c + 2 + q, 0x11, b""),
        seg(true, c + 2 + q, s + 2 + r, 0x10, b""),
    ]);
    v
}

/// IPv6 fragments too, with or without an extension header before the fragment header.
#[test]
fn ipv6_fragments_are_put_back_together_too() {
    for (name, order, dest_opts) in [
        ("v6-in-order", [0, 1, 2], false),
        ("v6-dest-opts-out-of-order", [1, 2, 0], true),
    ] {
        let path = write(&format!("fragments-{name}"), &capture6(order, dest_opts));
        let v = report(&path, "1");
        assert_eq!(v["capture"]["ip_fragments"], 3, "{name}");
        assert_eq!(v["capture"]["ip_datagrams_reassembled"], 1, "{name}");
        let c = &v["connections"][0];
        assert_eq!(c["client"], "[fd00:700::1]:40000", "{name}");
        assert_eq!(c["conn_state"], "SF", "{name}");
        let x = &c["http"][0];
        assert_eq!(
            (x["request"]["uri"].as_str(), x["request"]["frame"].as_u64()),
            (Some("/up"), Some(6)),
            "{name}"
        );
        assert_eq!(x["request"]["body_bytes"], 3000, "{name}");
        let flagged = c["packet_list"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["analysis"].as_array().is_some_and(|a| !a.is_empty()))
            .count();
        assert_eq!(flagged, 0, "{name}");
        assert_eq!(report(&path, "2"), v, "{name}");
        if let Some(uri) = tshark_uri(&path) {
            assert_eq!(uri, "6\t/up", "{name}");
        }
    }
}

/// tshark's frame and URI of the request; None without tshark.
fn tshark_uri(path: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args([
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "http.request.uri",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}
