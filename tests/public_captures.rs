//! Every shared public capture is read without a panic, and its packet, TCP packet and
//! TCP connection counts equal tshark's (oracle/), except where tshark is wrong: those
//! cases are named here with the reason.

mod common;

use std::collections::BTreeSet;
use tcpscope::headless;

/// Captures whose total packet count tshark reports differently, with why.
fn tcp_packet_exception(name: &str) -> Option<(u64, &'static str)> {
    match name {
        // Four ICMP errors quote an IP+TCP header; tshark's `-Y tcp` matches the quoted
        // header, but those frames are ICMP packets, not segments of any connection.
        "zeek-smtp" => Some((118, "ICMP errors quoting a TCP header are ICMP, not TCP")),
        _ => None,
    }
}

fn connection_exception(name: &str) -> Option<(usize, &'static str)> {
    match name {
        // Snaplen 40: each frame holds only the TCP ports and half the sequence number.
        // tshark gives up on the TCP header and assigns no stream at all; the ports are
        // there, so tcpscope groups the 303 frames into the 10 port pairs they belong to
        // (roles guessed, as no SYN flag is readable).
        "tcpflow-simson" => Some((10, "ports are captured even though the header is cut")),
        _ => None,
    }
}

#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public (or TCPSCOPE_PUBLIC_CAPTURES)"
)]
fn every_public_capture_matches_tshark_counts() {
    let Some(dir) = common::public_dir() else {
        return;
    };
    let caps = common::public_captures(&dir);
    assert!(
        caps.len() >= 30,
        "expected the public set, found {}",
        caps.len()
    );
    let mut failures = Vec::new();
    for cap in &caps {
        let name = cap.file_stem().unwrap().to_string_lossy().to_string();
        let (stats, conns) = match headless::run_path(cap) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: could not be read: {e}"));
                continue;
            }
        };
        let tcp = common::oracle(&dir, cap, "tcp");
        let stream_col = tcp.col("tcp.stream");
        let streams: BTreeSet<&str> = tcp
            .rows
            .iter()
            .filter_map(|r| r.get(stream_col).map(String::as_str))
            .filter(|s| !s.is_empty())
            .collect();
        let frame_col = tcp.col("frame.number");
        // Total packets: the last frame number tshark lists under any oracle is a lower
        // bound; the conv oracle has no totals, so take the MANIFEST count.
        let tshark_tcp = tcp.rows.len() as u64;
        let want_tcp = tcp_packet_exception(&name).map_or(tshark_tcp, |(n, _)| n);
        if stats.tcp_packets != want_tcp {
            failures.push(format!(
                "{name}: tcp_packets {} != {want_tcp}",
                stats.tcp_packets
            ));
        }
        let want_conns = connection_exception(&name).map_or(streams.len(), |(n, _)| n);
        if conns.len() != want_conns {
            failures.push(format!(
                "{name}: connections {} != {want_conns}",
                conns.len()
            ));
        }
        let last_tcp_frame: u64 = tcp
            .rows
            .iter()
            .filter_map(|r| r.get(frame_col)?.parse().ok())
            .max()
            .unwrap_or(0);
        if stats.packets < last_tcp_frame {
            failures.push(format!(
                "{name}: packets {} < last TCP frame {last_tcp_frame}",
                stats.packets
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public (or TCPSCOPE_PUBLIC_CAPTURES)"
)]
fn packet_counts_equal_manifest() {
    let Some(dir) = common::public_dir() else {
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let fcol = header.iter().position(|h| *h == "file").unwrap();
    let ccol = header.iter().position(|h| *h == "packet_count").unwrap();
    let mut checked = 0;
    for l in lines {
        let f: Vec<&str> = l.split('\t').collect();
        let want: u64 = f[ccol].split_whitespace().next().unwrap().parse().unwrap();
        let (stats, _) = headless::run_path(dir.join(f[fcol])).unwrap();
        assert_eq!(stats.packets, want, "{}", f[fcol]);
        checked += 1;
    }
    assert!(checked >= 30);
}

#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public (or TCPSCOPE_PUBLIC_CAPTURES)"
)]
fn damaged_files_report_what_precedes_the_damage() {
    let Some(dir) = common::public_dir() else {
        return;
    };
    // A record header claiming a 3.9 GB packet after packet 18.
    let (st, conns) = headless::run_path(dir.join("suricata-verify-smtp-to-comma.pcap")).unwrap();
    assert_eq!(st.packets, 18);
    assert_eq!(conns.len(), 1);
    assert_eq!(st.warnings.len(), 1);
    assert!(
        st.warnings[0].contains("after packet 18"),
        "{:?}",
        st.warnings
    );
    // Cut in the middle of a record after 785 packets.
    let (st, _) =
        headless::run_path(dir.join("suricata-verify-pgsql-5000-query-results.pcap")).unwrap();
    assert_eq!(st.packets, 785);
    assert!(st.warnings[0].contains("cut short"), "{:?}", st.warnings);
}

#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public (or TCPSCOPE_PUBLIC_CAPTURES)"
)]
fn mixed_interface_pcapng_is_read_by_the_fallback() {
    let Some(dir) = common::public_dir() else {
        return;
    };
    // 126 interfaces of several link types and snapshot lengths: libpcap 1.10 refuses it.
    let (st, conns) = headless::run_path(dir.join("zeek-ldap-gap-data-missing.pcapng")).unwrap();
    assert_eq!(st.packets, 18);
    assert_eq!(st.tcp_packets, 18);
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0].server.to_string(), "[2a00:6020:ad0b:8380::10]:389");
}

#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public (or TCPSCOPE_PUBLIC_CAPTURES)"
)]
fn nanosecond_timestamps_keep_every_digit() {
    let Some(dir) = common::public_dir() else {
        return;
    };
    let (st, conns) = headless::run_path(dir.join("tcpdump-tcp-handshake-nano.pcap")).unwrap();
    // tshark -r FILE -T fields -e frame.time_epoch: 1418145369.924505488
    assert_eq!(st.first_ts.unwrap().to_string(), "1418145369.924505488");
    assert_eq!(conns[0].end_ts.to_string(), "1418145370.052115157");
    assert_eq!(st.linktypes, vec!["LINUX_SLL"]);
}

#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public (or TCPSCOPE_PUBLIC_CAPTURES)"
)]
fn link_types_are_named() {
    let Some(dir) = common::public_dir() else {
        return;
    };
    for (file, lt) in [
        ("gopacket-test_loopback.pcap", "NULL"),
        ("tcpflow-test4.pcap", "RAW"),
        ("suricata-verify-decode-sll2-01.pcap", "LINUX_SLL2"),
        ("suricata-verify-security-4710-01.pcap", "LINUX_SLL"),
        ("zeek-http-vlan-0.pcap", "ETHERNET"),
    ] {
        let (st, conns) = headless::run_path(dir.join(file)).unwrap();
        assert_eq!(st.linktypes, vec![lt], "{file}");
        assert!(!conns.is_empty(), "{file}");
    }
}
