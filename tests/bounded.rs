//! Bounded memory under floods and eviction (issue 14, items 1 and 5).
//!
//! - A port-reusing SYN/RST flood replayed into the live path (`Live::replay` feeding
//!   `cmd::live::report_on`, the code `tcpscope live --format ndjson` runs): connections
//!   are written as they end, the tracked connections stay few, `--duration` ends on time.
//! - The same flood with hping3 on loopback (root and hping3 only; skipped otherwise).
//! - Eviction: N established connections with a request each, at a cap below N, list
//!   exactly N, the evicted ones with `"evicted": true`.

mod common;

use common::pcap::{Pcap, tcp_frame};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tcpscope::capture::live::Live;
use tcpscope::pipeline::Config;
use tcpscope::report::Format;

const CLIENT: [u8; 4] = [127, 0, 0, 1];
const SERVER: [u8; 4] = [127, 0, 0, 2];

/// Connection `i` of an hping3-like flood on a closed port: a SYN from a source port that
/// wraps every 60 000 connections, with a new ISN each time, answered by a RST, except
/// every 997th whose RST was lost (as the kernel drops some under a flood).
fn flood_frames(i: u64) -> Vec<Vec<u8>> {
    let port = 1024 + (i % 60_000) as u16;
    let isn = (i as u32).wrapping_mul(2_654_435_761);
    let syn = tcp_frame((CLIENT, port), (SERVER, 18086), isn, 0, "S", 512, &[], &[]);
    if i.is_multiple_of(997) {
        return vec![syn];
    }
    let rst = tcp_frame(
        (SERVER, 18086),
        (CLIENT, port),
        0,
        isn.wrapping_add(1),
        "RA",
        0,
        &[],
        &[],
    );
    vec![syn, rst]
}

/// Output that counts its lines as they are written (the NDJSON goes through a
/// LineWriter: one write per connection).
struct Lines {
    n: Arc<AtomicU64>,
    bytes: Vec<u8>,
    keep: bool,
}

impl Write for Lines {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let nl = b.iter().filter(|&&c| c == b'\n').count() as u64;
        self.n.fetch_add(nl, Ordering::SeqCst);
        if self.keep {
            self.bytes.extend_from_slice(b);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn summary_of(ndjson: &[u8]) -> serde_json::Value {
    let last = ndjson
        .split(|&c| c == b'\n')
        .rfind(|l| !l.is_empty())
        .expect("a summary line");
    let v: serde_json::Value = serde_json::from_slice(last).expect("json");
    assert_eq!(v["type"], "summary");
    v["capture"].clone()
}

#[test]
fn live_flood_of_reused_ports_is_written_as_it_ends_and_stays_bounded() {
    const N: u64 = 150_000;
    let lines = Arc::new(AtomicU64::new(0));
    let written_before_end = Arc::new(AtomicU64::new(0));
    let (l, w) = (lines.clone(), written_before_end.clone());
    // Before the capture ends, wait until the report has caught up: every connection
    // that ended must be written by then, not when the capture stops. A slow (debug,
    // loaded) machine gets as long as the count keeps rising; connections held back until
    // the end would stall it, and 15 s without a new line ends the wait.
    let wait = std::iter::once(()).flat_map(move |()| {
        let ended = N - N.div_ceil(997);
        let (mut seen, mut since) = (0, Instant::now());
        while l.load(Ordering::SeqCst) < ended && since.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(20));
            let now = l.load(Ordering::SeqCst);
            if now != seen {
                (seen, since) = (now, Instant::now());
            }
        }
        w.store(l.load(Ordering::SeqCst), Ordering::SeqCst);
        None::<Vec<u8>>
    });
    // (An empty frame hands the last partial batch over before the wait.)
    let frames = (0..N)
        .flat_map(flood_frames)
        .chain(std::iter::once(Vec::new()))
        .chain(wait);
    let live = Live::replay("replay", 1, frames, None).expect("replay starts");
    let mut out = Lines {
        n: lines.clone(),
        bytes: Vec::new(),
        keep: true,
    };
    tcpscope::cmd::live::report_on(
        live,
        None,
        None,
        Config::default(),
        Format::Ndjson,
        &mut out,
    )
    .expect("report");
    let before = written_before_end.load(Ordering::SeqCst);
    let st = summary_of(&out.bytes);
    if st["connections"] != N {
        let _ = std::fs::write(
            std::env::temp_dir().join("bounded-flood.ndjson"),
            &out.bytes,
        );
    }
    // Every SYN is its own connection (a new ISN on a reused port), RST or not.
    assert_eq!(st["connections"], N, "{st}");
    assert!(
        before >= N - N.div_ceil(997),
        "only {before} of {N} connections written before the capture ended"
    );
    // Closed connections are finished at once: what is tracked is the few whose RST
    // was lost, each until its port is reused (60 000 connections later).
    let peak = st["peak_tracked_connections"].as_u64().expect("peak");
    assert!(peak <= 100, "{peak} connections tracked at once");
    assert_eq!(st["evicted_connections"], 0);
    let text = String::from_utf8_lossy(&out.bytes);
    // No RST became a connection of its own (mid-stream, roles guessed): each one found
    // its SYN's connection, on the packets' time whatever the wall clock says.
    let guessed = text.matches("\"role_guessed\":true").count();
    assert_eq!(guessed, 0, "{guessed} connections opened mid-stream");
}

#[test]
fn late_packets_after_a_close_are_counted_against_it_and_a_new_syn_starts_anew() {
    // SYN, RST, a retransmitted RST (late, TIME-WAIT-like), then a new SYN on the tuple.
    let mk = |seq: u32, flags: &str, from_client: bool| {
        let (a, b) = ((CLIENT, 5555), (SERVER, 80));
        let (s, d) = if from_client { (a, b) } else { (b, a) };
        tcp_frame(s, d, seq, 101, flags, 100, &[], &[])
    };
    let frames = vec![
        mk(100, "S", true),
        mk(0, "RA", false),
        mk(0, "RA", false),
        mk(9000, "S", true),
    ];
    let lines = Arc::new(AtomicU64::new(0));
    let mut out = Lines {
        n: lines,
        bytes: Vec::new(),
        keep: true,
    };
    let live = Live::replay("replay", 1, frames.into_iter(), None).expect("replay");
    tcpscope::cmd::live::report_on(
        live,
        None,
        None,
        Config::default(),
        Format::Ndjson,
        &mut out,
    )
    .expect("report");
    let text = String::from_utf8_lossy(&out.bytes);
    let conns: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .filter(|v: &serde_json::Value| v["type"] == "connection")
        .collect();
    assert_eq!(conns.len(), 2, "{text}");
    assert_eq!(conns[0]["id"], 1);
    assert_eq!(conns[0]["packets"]["server"], 1);
    assert_eq!(conns[1]["port_reuse_of"], 1);
    assert_eq!(summary_of(&out.bytes)["packets_after_close"], 1);
}

#[test]
fn live_duration_ends_on_time_under_a_flood_the_analysis_cannot_follow() {
    // An endless flood (made once, then repeated: handed over faster than it is analysed).
    let made: Vec<Vec<u8>> = (0..60_000).flat_map(flood_frames).collect();
    let frames = made.into_iter().cycle();
    let t = Instant::now();
    let live = Live::replay("replay", 1, frames, Some(Duration::from_secs(3))).expect("replay");
    let mut out = Lines {
        n: Arc::new(AtomicU64::new(0)),
        bytes: Vec::new(),
        keep: false,
    };
    tcpscope::cmd::live::report_on(
        live,
        None,
        None,
        Config::default(),
        Format::Ndjson,
        &mut out,
    )
    .expect("report");
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(3) && took <= Duration::from_secs(4),
        "--duration 3 took {took:?}"
    );
}

/// `n` established connections (handshakes first, then a request and its ACK on each,
/// then each closed with FINs), as a pcap file.
fn established_with_requests(n: u32) -> std::path::PathBuf {
    let mut p = Pcap::new();
    let mut t = 1_000_000_000i64;
    let ends = |i: u32| {
        let c = ([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 40_000);
        (c, ([10, 255, 0, 1], 80))
    };
    let frame = |p: &mut Pcap, t: &mut i64, f: Vec<u8>| {
        *t += 1_000;
        p.record(*t, &f);
    };
    for i in 0..n {
        let (c, s) = ends(i);
        frame(
            &mut p,
            &mut t,
            tcp_frame(c, s, 100, 0, "S", 64240, &[], &[]),
        );
        frame(
            &mut p,
            &mut t,
            tcp_frame(s, c, 500, 101, "SA", 64240, &[], &[]),
        );
        frame(
            &mut p,
            &mut t,
            tcp_frame(c, s, 101, 501, "A", 64240, &[], &[]),
        );
    }
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let len = req.len() as u32;
    for i in 0..n {
        let (c, s) = ends(i);
        frame(
            &mut p,
            &mut t,
            tcp_frame(c, s, 101, 501, "PA", 64240, &[], req),
        );
        frame(
            &mut p,
            &mut t,
            tcp_frame(s, c, 501, 101 + len, "A", 64240, &[], &[]),
        );
    }
    for i in 0..n {
        let (c, s) = ends(i);
        frame(
            &mut p,
            &mut t,
            tcp_frame(c, s, 101 + len, 501, "FA", 64240, &[], &[]),
        );
        frame(
            &mut p,
            &mut t,
            tcp_frame(s, c, 501, 102 + len, "FA", 64240, &[], &[]),
        );
        frame(
            &mut p,
            &mut t,
            tcp_frame(c, s, 102 + len, 502, "A", 64240, &[], &[]),
        );
    }
    p.write("bounded-established.pcap")
}

#[test]
fn evicted_connections_are_marked_and_their_later_packets_start_no_new_connection() {
    const N: u32 = 20_000;
    let path = established_with_requests(N);
    for threads in ["1", "2"] {
        let out = common::pcapgen::run(&[
            "report",
            path.to_str().unwrap(),
            "--format",
            "ndjson",
            "--max-connections",
            "10000",
            "--threads",
            threads,
        ]);
        let text = String::from_utf8(out).expect("utf8");
        let mut conns = 0u64;
        let mut evicted = 0u64;
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            if v["type"] == "connection" {
                conns += 1;
                if v["evicted"] == true {
                    evicted += 1;
                    // Finished at its eviction: the handshake only, its later packets
                    // counted against it.
                    assert_eq!(v["packets"]["client"], 2, "{v}");
                }
            }
        }
        let st = summary_of(text.as_bytes());
        assert_eq!(conns, u64::from(N), "threads {threads}");
        assert_eq!(st["connections"], u64::from(N));
        assert_eq!(st["evicted_connections"], evicted);
        assert!(evicted >= u64::from(N) / 2, "{evicted} evicted");
        // Each evicted connection's request, its ACK, 2 FINs and the last ACK.
        assert_eq!(
            st["packets_after_eviction"],
            evicted * 5,
            "threads {threads}"
        );
    }
}

/// hping3 on loopback against a closed port, `tcpscope live --format ndjson` beside it.
#[test]
#[cfg_attr(
    not(all(tcpscope_root, tcpscope_hping3)),
    ignore = "needs root and hping3: a SYN flood on lo"
)]
fn hping3_flood_on_loopback_stays_bounded_and_ends_on_time() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: not root");
        return;
    }
    let Ok(hping) = std::process::Command::new("hping3")
        .args(["-q", "-S", "-p", "18086", "-i", "u15", "127.0.0.1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        eprintln!("skipping: hping3 not found");
        return;
    };
    let mut hping = Killed(hping);
    let time = std::path::Path::new("/usr/bin/time");
    let bin = env!("CARGO_BIN_EXE_tcpscope");
    let mut cmd = if time.exists() {
        let mut c = std::process::Command::new(time);
        c.args(["-f", "maxrss_kb %M", bin]);
        c
    } else {
        std::process::Command::new(bin)
    };
    let t = Instant::now();
    let out = cmd
        .args([
            "live",
            "-i",
            "lo",
            "-f",
            "tcp port 18086",
            "--format",
            "ndjson",
        ])
        .args(["--duration", "10"])
        .output()
        .expect("tcpscope runs");
    let took = t.elapsed();
    let _ = hping.0.kill();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        took <= Duration::from_secs(12),
        "--duration 10 took {took:?}"
    );
    let st = summary_of(&out.stdout);
    let conns = st["connections"].as_u64().unwrap_or(0);
    let lines = out.stdout.iter().filter(|&&c| c == b'\n').count() as u64 - 1;
    eprintln!("{conns} connections, {lines} lines; {stderr}");
    assert_eq!(lines, conns);
    assert!(st["kernel_drops"].is_u64(), "drops reported: {st}");
    let peak = st["peak_tracked_connections"].as_u64().unwrap_or(0);
    assert!(peak <= 100_000, "{peak} tracked");
    if let Some(kb) = stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb "))
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        assert!(kb <= 150 * 1024, "peak RSS {kb} KiB");
    }
}

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `n` handshake-only connections (SYN, SYN-ACK, ACK), each on its own client address
/// and port.
fn handshakes(n: u32) -> Pcap {
    let mut pcap = Pcap::new();
    let server = ([10, 1, 0, 1], 80);
    for i in 0..n {
        let client = (
            [10, 2, (i >> 16) as u8, (i >> 8) as u8],
            1024 + (i & 255) as u16,
        );
        let isn = i.wrapping_mul(2_654_435_761);
        let sisn = isn ^ 0x5a5a_5a5a;
        let t = i64::from(i) * 3_000;
        pcap.record(t, &tcp_frame(client, server, isn, 0, "S", 65535, &[], &[]));
        let synack = tcp_frame(
            server,
            client,
            sisn,
            isn.wrapping_add(1),
            "SA",
            65535,
            &[],
            &[],
        );
        pcap.record(t + 1_000, &synack);
        let ack = tcp_frame(
            client,
            server,
            isn.wrapping_add(1),
            sisn.wrapping_add(1),
            "A",
            65535,
            &[],
            &[],
        );
        pcap.record(t + 2_000, &ack);
    }
    pcap
}

/// Peak RSS (KiB) of `report FILE --format ndjson --threads 1 --max-connections 1000000`.
fn report_rss_kb(file: &std::path::Path) -> Option<u64> {
    let time = std::path::Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let out = std::process::Command::new(time)
        .args([
            "-f",
            "maxrss_kb %M",
            env!("CARGO_BIN_EXE_tcpscope"),
            "report",
        ])
        .arg(file)
        .args([
            "--format",
            "ndjson",
            "--threads",
            "1",
            "--max-connections",
            "1000000",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb "))
        .and_then(|s| s.trim().parse().ok())
}

/// Memory per tracked handshake-only connection (docs/memory.md): 200,000 of them all
/// tracked at once, RSS beyond a 1,000-connection run, per connection. The issue asks
/// at most 2 KB (2,048 bytes). Measured 2,876 bytes before the Vec capacities and boxes,
/// 2,400 after them, 2,224 with 40-byte transitions and the reassembler's buffers boxed
/// (this test then failed), 1,867 with the meter, counts, handshake, history and flow
/// table cuts.
#[test]
fn a_tracked_handshake_only_connection_costs_at_most_2_kb() {
    let small = handshakes(1_000).write("hs1k.pcap");
    let big = handshakes(200_000).write("hs200k.pcap");
    let (Some(base), Some(peak)) = (report_rss_kb(&small), report_rss_kb(&big)) else {
        eprintln!("skipping: no GNU time at /usr/bin/time");
        return;
    };
    let per = (peak.saturating_sub(base) * 1024) / 199_000;
    eprintln!("peak {peak} KiB, base {base} KiB: {per} bytes per handshake-only connection");
    assert!(per <= 2_048, "{per} bytes per connection");
    for f in [small, big] {
        let _ = std::fs::remove_dir_all(f.parent().unwrap());
    }
}
