//! Live capture end to end: the real binary captures on loopback while the test runs a
//! tiny HTTP server and client on a free port. Needs root (or cap_net_raw) and a
//! loopback interface; skipped with a message otherwise.

mod common;

use common::{cannot_capture, is_root, json, states};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

fn tcpscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
}

macro_rules! need_capture {
    () => {
        if let Some(why) = cannot_capture() {
            eprintln!("skipping: cannot capture on lo ({})", why.trim());
            return;
        }
    };
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tcpscope-live-{}-{name}", std::process::id()))
}

/// A server that answers one GET on 127.0.0.1 (port returned), on a thread.
fn serve_one() -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\nhello, live\n",
        )
        .unwrap();
    });
    (port, h)
}

/// One GET from a client; returns the body received.
fn get(port: u16) -> String {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(b"GET /live-test HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    c.read_to_string(&mut resp).unwrap();
    resp
}

/// Start `tcpscope live ARGS` and wait for its "capturing on" line.
fn start(args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = tcpscope()
        .arg("live")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("capture to start");
    assert!(first.contains("capturing on lo"), "{first}");
    (child, rx)
}

#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn headless_json_sees_handshake_states_and_http_and_w_file_matches() {
    need_capture!();
    let (port, server) = serve_one();
    let pcap = tmp("headless.pcap");
    let filter = format!("tcp port {port}");
    let (child, rx) = start(&[
        "-i",
        "lo",
        "-f",
        &filter,
        "--format",
        "json",
        "-w",
        pcap.to_str().unwrap(),
        "--duration",
        "3",
    ]);
    let body = get(port);
    server.join().unwrap();
    assert!(body.ends_with("hello, live\n"), "{body}");
    let out = child.wait_with_output().unwrap();
    let err: Vec<String> = rx.try_iter().collect();
    assert!(out.status.success(), "{err:?}");
    assert!(
        err.iter().any(|l| l.contains("dropped by the kernel")),
        "final counters on stderr: {err:?}"
    );
    let doc = json(&out.stdout);
    let conns = doc["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1, "{doc:#}");
    let c = &conns[0];
    assert_eq!(c["server"], format!("127.0.0.1:{port}"));
    assert_eq!(c["handshake"]["outcome"], "complete");
    assert_eq!(c["handshake"]["syn_frame"], 1);
    assert_eq!(
        &states(c, "client")[..2],
        ["SYN-SENT", "ESTABLISHED"],
        "{c:#}"
    );
    assert_eq!(
        &states(c, "server")[..3],
        ["LISTEN", "SYN-RECEIVED", "ESTABLISHED"],
        "{c:#}"
    );
    // The server closed first: it went FIN-WAIT-1 ... TIME-WAIT, the client CLOSE-WAIT.
    assert!(
        states(c, "server").contains(&"TIME-WAIT".to_string()),
        "{c:#}"
    );
    assert!(
        states(c, "client").contains(&"CLOSE-WAIT".to_string()),
        "{c:#}"
    );
    let x = &c["http"][0];
    assert_eq!(x["request"]["method"], "GET");
    assert_eq!(x["request"]["uri"], "/live-test");
    assert_eq!(x["response"]["status"], 200);
    let cap = &doc["capture"];
    assert_eq!(cap["kernel_drops"], 0);
    assert!(cap["interface_drops"].is_u64());
    assert_eq!(cap["linktypes"][0], "ETHERNET");

    // The -w file, read back by `report`, gives the same connections.
    let rep = tcpscope()
        .args(["report", "--format", "json", pcap.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        rep.status.success(),
        "{}",
        String::from_utf8_lossy(&rep.stderr)
    );
    let back = json(&rep.stdout);
    assert_eq!(back["connections"], doc["connections"]);
    assert_eq!(back["capture"]["packets"], doc["capture"]["packets"]);
    assert_eq!(
        back["capture"]["tcp_packets"],
        doc["capture"]["tcp_packets"]
    );
    assert!(back["capture"]["warnings"].as_array().unwrap().is_empty());
    let _ = std::fs::remove_file(&pcap);
}

#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn ndjson_writes_each_connection_when_it_closes() {
    need_capture!();
    let (port, server) = serve_one();
    let filter = format!("tcp port {port}");
    let (mut child, _rx) = start(&[
        "-i",
        "lo",
        "-f",
        &filter,
        "--format",
        "ndjson",
        "--duration",
        "20",
    ]);
    let t0 = Instant::now();
    get(port);
    server.join().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let waited = t0.elapsed();
    // Closed connections are finished after 4 s of quiet, swept on wall-clock ticks.
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["type"], "connection");
    assert_eq!(v["http"][0]["response"]["status"], 200);
    // SIGINT: a clean end with the summary line.
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let last = lines.next().unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(v["type"], "summary");
    assert_eq!(v["capture"]["connections"], 1);
    assert!(child.wait().unwrap().success());
}

#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn count_stops_and_w_file_is_whole() {
    need_capture!();
    let (port, server) = serve_one();
    let pcap = tmp("count.pcap");
    let filter = format!("tcp port {port}");
    let (child, _rx) = start(&[
        "-i",
        "lo",
        "-f",
        &filter,
        "--format",
        "text",
        "--count",
        "3",
        "-w",
        pcap.to_str().unwrap(),
    ]);
    get(port);
    server.join().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("packets     3 total, 3 TCP"), "{text}");
    assert!(text.contains("drops       0 by the kernel"), "{text}");
    // The handshake, and nothing cut: the file reads back without warnings.
    let rep = tcpscope()
        .args(["report", pcap.to_str().unwrap()])
        .output()
        .unwrap();
    let back = String::from_utf8_lossy(&rep.stdout);
    assert!(back.contains("3 total, 3 TCP"), "{back}");
    assert!(!back.contains("warning"), "{back}");
    let _ = std::fs::remove_file(&pcap);
}

#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn bad_filter_shows_libpcap_message_and_marks_the_token() {
    need_capture!();
    let out = tcpscope()
        .args(["live", "-i", "lo", "--format", "json", "-f", "tcp port foo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown port 'foo'"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "tcp port foo")
        .unwrap();
    let filter_col = lines[at].find("tcp").unwrap();
    let caret = lines[at + 1];
    assert_eq!(caret.find('^'), Some(filter_col + 9), "{err}");
    assert_eq!(caret.trim(), "^^^", "{err}");

    let out = tcpscope()
        .args([
            "live",
            "-i",
            "lo",
            "--format",
            "json",
            "-f",
            "tcp port 80 and (",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("syntax error"), "{err}");
    assert!(
        err.contains('^') && err.contains("man pcap-filter"),
        "{err}"
    );
}

#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn unknown_interface_lists_the_existing_ones() {
    need_capture!();
    let out = tcpscope()
        .args(["live", "-i", "nosuchif9", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot capture on nosuchif9: no such interface"),
        "{err}"
    );
    assert!(
        err.contains("lo") && err.contains("tcpscope interfaces"),
        "{err}"
    );
}

#[test]
fn interfaces_lists_loopback_with_flags_and_linktype() {
    let out = tcpscope().arg("interfaces").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lo = text
        .lines()
        .find(|l| l.starts_with("lo ") || l.starts_with("lo *"));
    let Some(lo) = lo else {
        eprintln!("skipping: no loopback interface listed:\n{text}");
        return;
    };
    assert!(
        lo.contains("loopback") && lo.contains("127.0.0.1/8"),
        "{lo}"
    );
    if is_root() {
        assert!(lo.contains("ETHERNET"), "{lo}");
    }
    assert!(text.contains("libpcap's default device"), "{text}");
}

#[test]
#[cfg_attr(
    not(tcpscope_root),
    ignore = "needs root: runs the binary as user nobody"
)]
fn no_permission_says_how_to_grant_it() {
    if !is_root() {
        eprintln!("skipping: needs root to switch to an unprivileged user");
        return;
    }
    let Some(out) = common::as_nobody(&["live", "-i", "lo", "--format", "json"]) else {
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "cannot capture on lo: permission denied; run as root or grant the binary cap_net_raw,cap_net_admin with setcap"
        ),
        "{err}"
    );
}

#[test]
#[cfg_attr(
    not(tcpscope_root),
    ignore = "needs root: network namespaces and a veth pair"
)]
fn interface_going_down_stops_cleanly() {
    need_capture!();
    let a = format!("tsl{}", std::process::id() % 100_000);
    let b = format!("{a}p");
    let ok = Command::new("ip")
        .args(["link", "add", &a, "type", "veth", "peer", "name", &b])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipping: cannot create a veth pair");
        return;
    }
    let _ = Command::new("ip").args(["link", "set", &a, "up"]).status();
    let _ = Command::new("ip").args(["link", "set", &b, "up"]).status();
    let mut child = tcpscope()
        .args(["live", "-i", &a, "--format", "text", "--duration", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let _ = Command::new("ip")
        .args(["link", "set", &a, "down"])
        .status();
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() || t0.elapsed() > Duration::from_secs(10) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let _ = Command::new("ip").args(["link", "del", &a]).status();
    let err = String::from_utf8_lossy(&out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "did not stop: {err}"
    );
    assert!(out.status.success(), "{err}");
    assert!(err.contains("the interface went down"), "{err}");
    assert!(text.contains("warning     capture on"), "{text}");
    assert!(text.contains(&format!("capture     live:{a}")), "{text}");
}

/// What one capture handed over, collected on its own thread until it stopped.
struct Collected {
    frames: Vec<Vec<u8>>,
    last: tcpscope::capture::live::LiveStats,
}

/// `switched` is set once the capture reports it moved to block delivery.
fn collect(
    live: tcpscope::capture::live::Live,
    switched: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Collected> {
    use tcpscope::capture::live::Event;
    std::thread::spawn(move || {
        let mut frames = Vec::new();
        loop {
            match live.rx.recv() {
                Ok(Event::Packets(b)) => frames.extend(b.packets().map(|p| p.data.to_vec())),
                Ok(Event::Stats(s)) => {
                    if s.buffered_from.is_some() {
                        switched.store(true, Ordering::SeqCst);
                    }
                }
                Ok(Event::Stopped(_, last)) => return Collected { frames, last },
                Err(_) => panic!("capture thread went away without a Stopped event"),
            }
        }
    })
}

/// The TUI's capture starts in immediate mode and moves to block delivery under load
/// (docs/live.md). Across the switch nothing may be lost and nothing delivered twice: the
/// packets, byte for byte, are those a block-mode capture of the same traffic saw beside it.
#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn immediate_mode_switch_under_load_loses_and_repeats_nothing() {
    use tcpscope::capture::live::{Live, LiveConfig};
    need_capture!();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let cfg = |immediate| LiveConfig {
        interface: Some("lo".into()),
        filter: Some(format!("tcp port {port}")),
        immediate,
        ..Default::default()
    };
    let fast = Live::start(cfg(true)).unwrap();
    let reference = Live::start(cfg(false)).unwrap();
    let (stop_fast, stop_ref) = (fast.stop_flag(), reference.stop_flag());
    let switched = Arc::new(AtomicBool::new(false));
    let (fast, reference) = (
        collect(fast, switched.clone()),
        collect(reference, Arc::default()),
    );
    let server = std::thread::spawn(move || {
        let mut readers = Vec::new();
        for _ in 0..CLIENTS {
            let (mut s, _) = l.accept().unwrap();
            readers.push(std::thread::spawn(move || {
                let mut sink = Vec::new();
                s.read_to_end(&mut sink).unwrap();
                sink.len()
            }));
        }
        readers
            .into_iter()
            .map(|r| r.join().unwrap())
            .sum::<usize>()
    });
    // Several connections sending small segments as fast as loopback takes them, until the
    // capture reports the switch (or 20 s): far more than one immediate-mode wake-up per
    // packet can follow.
    const CLIENTS: usize = 4;
    let deadline = Instant::now() + Duration::from_secs(20);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let switched = switched.clone();
            std::thread::spawn(move || {
                let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
                c.set_nodelay(true).unwrap();
                let mut sent = 0;
                while !switched.load(Ordering::SeqCst) && Instant::now() < deadline {
                    for _ in 0..5_000 {
                        c.write_all(b"0123456789abcdef").unwrap();
                        sent += 16;
                    }
                }
                sent
            })
        })
        .collect();
    let sent: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(server.join().unwrap(), sent);
    std::thread::sleep(Duration::from_millis(500));
    stop_fast.store(true, Ordering::SeqCst);
    stop_ref.store(true, Ordering::SeqCst);
    let (fast, reference) = (fast.join().unwrap(), reference.join().unwrap());
    assert!(
        fast.last.buffered_from.is_some(),
        "the load did not move the capture to block delivery ({} packets)",
        fast.frames.len()
    );
    if reference.last.kernel_drops > 0 {
        eprintln!(
            "skipping the comparison: the reference capture itself dropped {} packets",
            reference.last.kernel_drops
        );
        return;
    }
    // Nothing delivered twice, nothing invented: every packet of the switching capture is
    // one the reference saw, as many times.
    let mut count: HashMap<&[u8], i64> = HashMap::new();
    for f in &reference.frames {
        *count.entry(f).or_default() += 1;
    }
    for f in &fast.frames {
        let n = count.entry(f).or_default();
        *n -= 1;
        assert!(*n >= 0, "a packet delivered twice or never sent: {f:02x?}");
    }
    // Nothing lost silently. Immediate mode can still drop in a burst that arrives before
    // the switch while the thread is not running (its ring holds 256 packets here); those
    // are counted as kernel drops. With none counted, the two captures are the same.
    let missing: i64 = count.values().sum();
    let msg = format!(
        "immediate then block: {} packets, {} kernel drops, switch at frame {:?}; block only: {}",
        fast.frames.len(),
        fast.last.kernel_drops,
        fast.last.buffered_from,
        reference.frames.len()
    );
    assert!(
        missing <= fast.last.kernel_drops as i64,
        "lost silently: {missing}; {msg}"
    );
    eprintln!("{msg}");
}
