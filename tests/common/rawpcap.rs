//! Classic pcap files read and merged record by record (microsecond or nanosecond magic,
//! little-endian), for tests that compare frames byte for byte.
#![allow(dead_code, reason = "each test file uses a part of it")]

use std::path::Path;

/// One record: timestamp in nanoseconds, wire length, captured bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    pub ts_ns: i64,
    pub orig_len: u32,
    pub data: Vec<u8>,
}

/// The link type and records of a classic pcap file.
pub fn read(path: &Path) -> (u32, Vec<Rec>) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let u32at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    let nanos = match u32at(0) {
        0xa1b2_c3d4 => false,
        0xa1b2_3c4d => true,
        m => panic!(
            "{}: not a little-endian classic pcap (magic {m:08x})",
            path.display()
        ),
    };
    let linktype = u32at(20);
    let mut at = 24;
    let mut v = Vec::new();
    while at + 16 <= b.len() {
        let (s, f, cap, orig) = (u32at(at), u32at(at + 4), u32at(at + 8), u32at(at + 12));
        let frac = if nanos {
            i64::from(f)
        } else {
            i64::from(f) * 1000
        };
        let data = b[at + 16..at + 16 + cap as usize].to_vec();
        v.push(Rec {
            ts_ns: i64::from(s) * 1_000_000_000 + frac,
            orig_len: orig,
            data,
        });
        at += 16 + cap as usize;
    }
    (linktype, v)
}

/// Several pcap files of one link type merged by time (stable) into `out`, nanosecond.
pub fn merge(files: &[&Path], out: &Path) {
    let mut all = Vec::new();
    let mut lt = None;
    for f in files {
        let (l, recs) = read(f);
        assert!(
            lt.is_none_or(|x| x == l),
            "{}: another link type",
            f.display()
        );
        lt = Some(l);
        all.extend(recs);
    }
    all.sort_by_key(|r| r.ts_ns);
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_3c4d_u32.to_le_bytes());
    b.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(&262_144u32.to_le_bytes());
    b.extend_from_slice(&lt.unwrap_or(1).to_le_bytes());
    for r in &all {
        b.extend_from_slice(&((r.ts_ns / 1_000_000_000) as u32).to_le_bytes());
        b.extend_from_slice(&((r.ts_ns % 1_000_000_000) as u32).to_le_bytes());
        b.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        b.extend_from_slice(&r.orig_len.to_le_bytes());
        b.extend_from_slice(&r.data);
    }
    std::fs::write(out, b).unwrap();
}

/// The bundled captures of one link type (Ethernet) merged into one file of several
/// connections (http keep-alive, refused, lossy, reset, IPv6, 100-continue, SYN retry).
pub fn several_connections(out: &Path) {
    let names = [
        "http-keepalive.pcap",
        "tcp-refused.pcap",
        "http-ipv6.pcap",
        "tcp-lossy-client-side.pcap",
        "tcp-rst-abort.pcap",
        "demo-post-continue.pcap",
        "tcp-syn-retry.pcap",
    ];
    let paths: Vec<_> = names.iter().map(|n| super::bundled(n)).collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    merge(&refs, out);
}
