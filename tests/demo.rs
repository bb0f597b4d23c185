//! `tcpscope demo`: every scenario runs headless on loopback and shows what it stages
//! (handshake outcome, states, HTTP exchanges, analysis flags). The live runs need root
//! (or cap_net_raw) and are skipped with a message otherwise; the bundled replays of
//! the same scenarios are checked with the same assertions everywhere.

mod common;

use common::{cannot_capture, json, states};
use serde_json::Value;
use std::process::Command;

const SCENARIOS: [&str; 10] = [
    "get",
    "keep-alive",
    "pipelined",
    "chunked",
    "post-continue",
    "refused",
    "reset",
    "half-close",
    "slow-reader",
    "timeout",
];

fn tcpscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
}

/// `tcpscope demo --scenario NAME --format json [extra]`: the report and stderr.
fn demo(name: &str, extra: &[&str]) -> (Value, String) {
    let out = tcpscope()
        .args(["demo", "--scenario", name, "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "demo {name} failed: {err}");
    (json(&out.stdout), err)
}

fn first_frame_of(c: &Value, side: &str, state: &str) -> u64 {
    c["states"][side]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["state"] == state)
        .unwrap_or_else(|| panic!("{side} never in {state}: {:?}", states(c, side)))["frame"]
        .as_u64()
        .unwrap()
}

/// What each scenario must show, live or replayed.
fn check(name: &str, d: &Value) {
    let conns = d["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1, "{name}: one connection");
    let c = &conns[0];
    let outcome = c["handshake"]["outcome"].as_str().unwrap();
    let http = c["http"].as_array().cloned().unwrap_or_default();
    let fin = &c["final_states"];
    let ctx = format!("{name}: {c}");
    if name == "refused" {
        assert_eq!(outcome, "refused", "{ctx}");
        assert_eq!(c["conn_state"], "REJ", "{ctx}");
        assert!(http.is_empty(), "{ctx}");
        return;
    }
    assert_eq!(outcome, "complete", "{ctx}");
    let status = |i: usize| http[i]["response"]["status"].as_u64();
    match name {
        "get" | "chunked" | "post-continue" => {
            assert_eq!(http.len(), 1, "{ctx}");
            assert_eq!(fin["client"], "TIME-WAIT", "{ctx}");
            assert_eq!(fin["server"], "CLOSED", "{ctx}");
            assert_eq!(c["conn_state"], "SF", "{ctx}");
            match name {
                "get" => assert_eq!(status(0), Some(200), "{ctx}"),
                "chunked" => {
                    assert_eq!(status(0), Some(200), "{ctx}");
                    assert_eq!(http[0]["response"]["chunked"], true, "{ctx}");
                }
                _ => {
                    assert_eq!(http[0]["request"]["method"], "POST", "{ctx}");
                    assert_eq!(http[0]["interim"][0]["status"], 100, "{ctx}");
                    assert_eq!(status(0), Some(201), "{ctx}");
                    assert_eq!(http[0]["request"]["body_bytes"], 1024, "{ctx}");
                }
            }
        }
        "keep-alive" | "pipelined" => {
            assert_eq!(http.len(), 3, "{ctx}");
            assert!((0..3).all(|i| status(i) == Some(200)), "{ctx}");
            // The last request said Connection: close: the server closed first.
            assert_eq!(fin["server"], "TIME-WAIT", "{ctx}");
            assert_eq!(fin["client"], "CLOSED", "{ctx}");
            let frames: Vec<u64> = http
                .iter()
                .map(|x| x["request"]["frame"].as_u64().unwrap())
                .collect();
            if name == "pipelined" {
                assert!(frames.iter().all(|f| *f == frames[0]), "one segment: {ctx}");
            } else {
                assert!(frames[0] < frames[1] && frames[1] < frames[2], "{ctx}");
            }
        }
        "reset" => {
            assert_eq!(c["close"], "rst", "{ctx}");
            let cs = c["conn_state"].as_str().unwrap();
            assert!(cs == "RSTR" || cs == "RSTO", "{ctx}");
            assert_eq!(fin["client"], "CLOSED", "{ctx}");
            assert_eq!(fin["server"], "CLOSED", "{ctx}");
            assert_eq!(http.len(), 1, "{ctx}");
            assert_eq!(http[0]["response"]["complete"], false, "{ctx}");
        }
        "half-close" => {
            let cl = states(c, "client");
            let fw2 = cl
                .iter()
                .position(|s| s == "FIN-WAIT-2")
                .expect("FIN-WAIT-2");
            let tw = cl.iter().position(|s| s == "TIME-WAIT").expect("TIME-WAIT");
            assert!(fw2 < tw, "{ctx}");
            assert_eq!(fin["client"], "TIME-WAIT", "{ctx}");
            assert_eq!(http.len(), 1, "{ctx}");
            // The whole response came after the client's FIN.
            let client_fin = first_frame_of(c, "client", "FIN-WAIT-1");
            let resp = http[0]["response"]["frame"].as_u64().unwrap();
            assert!(resp > client_fin, "{ctx}");
            assert_eq!(status(0), Some(200), "{ctx}");
        }
        "slow-reader" => {
            assert!(c["analysis"]["zero_window"].as_u64().unwrap() > 0, "{ctx}");
            assert!(
                c["analysis"]["window_update"].as_u64().unwrap() > 0,
                "{ctx}"
            );
            assert_eq!(status(0), Some(200), "{ctx}");
            assert_eq!(http[0]["response"]["complete"], true, "{ctx}");
        }
        "timeout" => {
            assert_eq!(http.len(), 1, "{ctx}");
            assert!(http[0]["response"].is_null(), "no answer: {ctx}");
            assert_eq!(fin["client"], "TIME-WAIT", "the client closed first: {ctx}");
            let secs = c["end_ts"].as_f64().unwrap() - c["start_ts"].as_f64().unwrap();
            assert!((1.0..3.0).contains(&secs), "gave up after {secs} s: {ctx}");
        }
        other => panic!("unknown scenario {other}"),
    }
}

fn live(name: &str) {
    if let Some(why) = cannot_capture() {
        eprintln!("skipping: cannot capture on lo ({})", why.trim());
        return;
    }
    let t = std::time::Instant::now();
    let (d, err) = demo(name, &[]);
    assert!(!err.contains("replaying"), "{err}");
    assert!(err.contains("0 dropped by the kernel"), "{err}");
    assert!(d["capture"]["file"] == "live:lo", "{d}");
    assert!(
        t.elapsed().as_secs_f64() < 5.0,
        "{name} took {:?}",
        t.elapsed()
    );
    check(name, &d);
}

#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_get() {
    live("get");
}
#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_keep_alive() {
    live("keep-alive");
}
#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_pipelined() {
    live("pipelined");
}
#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_chunked() {
    live("chunked");
}
#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_post_continue() {
    live("post-continue");
}
#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_refused() {
    live("refused");
}
#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_reset() {
    live("reset");
}
#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_half_close() {
    live("half-close");
}
#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_slow_reader() {
    live("slow-reader");
}
#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_timeout() {
    live("timeout");
}

#[test]
fn replay_of_every_bundled_scenario() {
    for name in SCENARIOS {
        let (d, _) = demo(name, &["--replay"]);
        assert_eq!(
            d["capture"]["file"],
            format!("bundled:captures/demo-{name}.pcap")
        );
        check(name, &d);
    }
}

#[test]
fn list_names_every_scenario_in_one_line() {
    let out = tcpscope().args(["demo", "--list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let mut all = SCENARIOS.to_vec();
    all.extend(["loss", "https", "h2"]);
    assert_eq!(names, all, "{text}");
    assert!(text.lines().all(|l| l.len() > 30), "{text}");
}

#[test]
fn unknown_scenario_is_a_usage_error() {
    let out = tcpscope()
        .args(["demo", "--scenario", "nope", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("keep-alive"));
}

#[test]
#[cfg_attr(
    not(tcpscope_root),
    ignore = "needs root: runs the binary as user nobody"
)]
fn without_permission_the_bundled_capture_is_replayed() {
    let Some(out) = common::as_nobody(&["demo", "--scenario", "keep-alive", "--format", "json"])
    else {
        return;
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].contains("no permission to capture on lo")
            && lines[0].contains("replaying the bundled capture of `keep-alive`"),
        "{err}"
    );
    let d = json(&out.stdout);
    assert_eq!(
        d["capture"]["file"],
        "bundled:captures/demo-keep-alive.pcap"
    );
    check("keep-alive", &d);
}

/// The demo's terminal UI in tmux: it opens on the connection with the playhead on the
/// SYN, Space steps, `q` quits and the narration follows. `replay` runs the bundled
/// capture (no root needed).
fn tui_steps_from_the_syn(replay: bool) {
    use std::time::{Duration, Instant};
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipping: tmux is not installed");
        return;
    }
    if !replay && let Some(why) = cannot_capture() {
        eprintln!("skipping: cannot capture on lo ({})", why.trim());
        return;
    }
    let sock = format!("tcpscope-demo-{}-{replay}", std::process::id());
    let tmux = |args: &[&str]| -> String {
        let out = Command::new("tmux")
            .args(["-L", &sock])
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    struct Kill<'a>(&'a dyn Fn(&[&str]) -> String);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            (self.0)(&["kill-server"]);
        }
    }
    let _kill = Kill(&tmux);
    let cmd = format!(
        "NO_COLOR=1 {} demo --scenario get{} 2>/tmp/{sock}.err; s=$?; cat /tmp/{sock}.err; rm -f /tmp/{sock}.err; echo DEMO-EXITED $s; sleep 30",
        env!("CARGO_BIN_EXE_tcpscope"),
        if replay { " --replay" } else { "" }
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        "d",
        "-x",
        "110",
        "-y",
        "30",
        &cmd,
    ]);
    let wait = |what: &str, f: &dyn Fn(&str) -> bool| -> String {
        let t0 = Instant::now();
        loop {
            let p = tmux(&["capture-pane", "-p", "-t", "d"]);
            if f(&p) {
                return p;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(15),
                "timed out waiting for {what}; pane:\n{p}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let p = wait("the SYN on the ladder", &|p| {
        p.contains("SYN seq=0") && p.contains("playhead: frame 1/")
    });
    assert!(!p.contains("SYN, ACK"), "only the SYN so far:\n{p}");
    if !replay {
        wait("the capture to stop after the scenario", &|p| {
            p.contains("■ stopped")
        });
    }
    tmux(&["send-keys", "-t", "d", "Space"]);
    wait("the SYN-ACK after Space", &|p| {
        p.contains("SYN, ACK seq=0 ack=1")
    });
    tmux(&["send-keys", "-t", "d", "q"]);
    let p = wait("exit", &|p| p.contains("DEMO-EXITED"));
    assert!(p.contains("DEMO-EXITED 0"), "{p}");
    if !replay {
        assert!(
            p.contains("demo: client: wrote ") && p.contains("bytes: GET /hello.txt HTTP/1.1"),
            "{p}"
        );
    }
}

#[test]
#[cfg_attr(
    not(all(tcpscope_root, tcpscope_tmux)),
    ignore = "needs root and tmux: the live demo in a tmux pane"
)]
fn tui_live_demo_steps_from_the_syn() {
    tui_steps_from_the_syn(false);
}

#[test]
#[cfg_attr(not(tcpscope_tmux), ignore = "needs tmux")]
fn tui_replayed_demo_steps_from_the_syn() {
    tui_steps_from_the_syn(true);
}

/// Other programs use loopback too: while a busy connection pumps data and new
/// connections come and go on 127.0.0.1, each demo still reports exactly its own.
#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn the_demo_sees_only_its_own_traffic() {
    use std::io::{Read, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    if let Some(why) = cannot_capture() {
        eprintln!("skipping: cannot capture on lo ({})", why.trim());
        return;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let sink = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            l.set_nonblocking(true).unwrap();
            let mut buf = vec![0u8; 65536];
            let mut conns = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Ok((s, _)) = l.accept() {
                    s.set_nonblocking(true).unwrap();
                    conns.push(s);
                }
                conns.retain_mut(|s: &mut std::net::TcpStream| !matches!(s.read(&mut buf), Ok(0)));
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        })
    };
    let pump = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut busy = std::net::TcpStream::connect(addr).unwrap();
            let chunk = vec![b'x'; 1400];
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let _ = busy.write_all(&chunk);
                sent += 1;
                // Short connections too, so ephemeral ports keep turning over.
                if sent.is_multiple_of(20)
                    && let Ok(mut s) = std::net::TcpStream::connect(addr)
                {
                    let _ = s.write_all(b"hello");
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        })
    };
    let result = std::panic::catch_unwind(|| {
        for name in ["get", "refused", "slow-reader"] {
            let (d, err) = demo(name, &[]);
            assert!(!err.contains("replaying"), "{err}");
            check(name, &d);
        }
    });
    stop.store(true, Ordering::Relaxed);
    pump.join().unwrap();
    sink.join().unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// What the loss demo must show, live or replayed: a download with retransmissions,
/// duplicate ACKs and a fast retransmit, and the narration of the first loss.
fn check_loss(d: &Value, err: &str) {
    let c = &d["connections"][0];
    let a = &c["analysis"];
    let ctx = format!("{a}\n{err}");
    assert!(a["retransmission"].as_u64().unwrap() > 0, "{ctx}");
    assert!(a["duplicate_ack"].as_u64().unwrap() > 0, "{ctx}");
    assert!(a["fast_retransmission"].as_u64().unwrap() > 0, "{ctx}");
    assert_eq!(c["handshake"]["outcome"], "complete", "{ctx}");
    assert!(
        c["payload_bytes"]["server"].as_u64().unwrap() > 1_000_000,
        "{ctx}"
    );
    for part in [
        "First retransmission: frame ",
        "First fast retransmit: frame ",
        "Recovery: frame ",
    ] {
        assert!(err.contains(part), "no {part:?} in the narration:\n{err}");
    }
}

/// The loss demo live: root builds the namespace pair; CI runs as root. The namespaces
/// are gone afterwards and the host's loopback saw none of it.
#[test]
#[cfg_attr(
    not(tcpscope_root),
    ignore = "needs root: network namespaces and a veth pair"
)]
fn demo_loss_live_in_namespaces() {
    if !common::is_root() {
        eprintln!("skipping: the loss demo's network namespaces need root");
        return;
    }
    let (d, err) = demo("loss", &[]);
    assert!(!err.contains("replaying"), "{err}");
    assert!(
        d["capture"]["file"]
            .as_str()
            .unwrap()
            .starts_with("live:tsl"),
        "{d}"
    );
    check_loss(&d, &err);
    let pid_ns = Command::new("ip").args(["netns", "list"]).output().unwrap();
    let left = String::from_utf8_lossy(&pid_ns.stdout).into_owned();
    assert!(
        !left.lines().any(|l| l.starts_with("tcpscope-loss-")
            && err.contains(l.split_whitespace().next().unwrap())),
        "namespaces left behind: {left}"
    );
}

#[test]
fn demo_loss_replay() {
    let (d, err) = demo("loss", &["--replay"]);
    assert_eq!(
        d["capture"]["file"],
        "bundled:captures/http-lossy-download.pcap"
    );
    check_loss(&d, &err);
    // The bundled recording's first loss, as tshark reads it: frame 84 resends seq
    // 62518 (first sent in frame 67); the first fast retransmit is frame 164.
    assert!(
        err.contains("frame 84 resends seq 62518 (1448 bytes) first sent in frame 67"),
        "{err}"
    );
    assert!(
        err.contains("First fast retransmit: frame 164 resends seq 147950"),
        "{err}"
    );
}

/// SHA-256 of the page the demo server serves for `uri` (`demo::scenarios::page`).
fn page_sha256(uri: &str) -> String {
    use sha2::Digest;
    let body = format!("Hello from the tcpscope demo server: this is {uri}.\n");
    sha2::Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `https` scenario, live or replayed: TLS 1.3 decrypted with the client's key log
/// (`keys_from`), two GETs on one connection, each answered 200 with the known page.
fn check_https(d: &Value, err: &str, keys_from: &str) {
    let conns = d["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1, "{d}");
    let c = &conns[0];
    assert_eq!(c["app"], "tls", "{c}");
    assert_eq!(c["handshake"]["outcome"], "complete", "{c}");
    let t = &c["tls"];
    assert_eq!(t["version"], "TLS 1.3", "{t}");
    assert_eq!(t["sni"], "tcpscope.demo", "{t}");
    assert_eq!(t["alpn"], "http/1.1", "{t}");
    assert_eq!(t["decrypted"], true, "{t}");
    assert_eq!(t["keys_from"], keys_from, "{t}");
    assert_eq!(t["decrypt_failures"], 0, "{t}");
    let http = c["http"].as_array().unwrap();
    let got: Vec<(String, u64, String)> = http
        .iter()
        .map(|x| {
            (
                x["request"]["uri"].as_str().unwrap().to_string(),
                x["response"]["status"].as_u64().unwrap(),
                x["response"]["body_sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, u64, String)> = ["/hello.txt", "/about.txt"]
        .iter()
        .map(|u| (u.to_string(), 200, page_sha256(u)))
        .collect();
    assert_eq!(got, want, "{c}");
    // The two views, told on stderr: the clear handshake, then what the keys opened.
    assert!(err.contains("On the wire"), "{err}");
    assert!(
        err.contains("GET /hello.txt → 200 OK (57-byte body,"),
        "{err}"
    );
}

#[test]
fn https_replay_decrypts_with_the_secrets_inside_the_capture() {
    let (d, err) = demo("https", &["--replay"]);
    assert_eq!(d["capture"]["file"], "bundled:captures/demo-https.pcapng");
    check_https(&d, &err, "dsb");
    assert!(err.contains("inside the capture (pcapng DSB)"), "{err}");
}

#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_https() {
    if let Some(why) = cannot_capture() {
        eprintln!("skipping: cannot capture on lo ({})", why.trim());
        return;
    }
    // With -w the key log stays beside the capture, to open it again with --keylog.
    let dir = std::env::temp_dir().join(format!("tcpscope-demo-https-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("https.pcap");
    let (d, err) = demo("https", &["-w", pcap.to_str().unwrap()]);
    assert!(!err.contains("replaying"), "{err}");
    assert_eq!(d["capture"]["file"], "live:lo", "{d}");
    check_https(&d, &err, "keylog");
    let keys = std::fs::read_to_string(dir.join("https.keys")).unwrap();
    assert_eq!(
        keys.lines().count(),
        5,
        "TLS 1.3: 4 traffic secrets and the exporter's"
    );
    let out = tcpscope()
        .args(["report", "--format", "json", "--keylog"])
        .arg(dir.join("https.keys"))
        .arg(&pcap)
        .output()
        .unwrap();
    let again = json(&out.stdout);
    assert_eq!(
        again["connections"][0]["http"].as_array().map(Vec::len),
        Some(2)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `h2` scenario's answers: (stream id, path, body) as `demo::h2` builds them.
fn h2_answers() -> Vec<(u64, String, String)> {
    [
        ("/index.html", 3),
        ("/style.css", 2),
        ("/app.js", 4),
        ("/data.json", 1),
    ]
    .iter()
    .enumerate()
    .map(|(i, (path, n))| {
        let body: String = (1..=*n)
            .map(|k| format!("{path}: part {k} of {n}, from the tcpscope demo server\n"))
            .collect();
        (1 + 2 * i as u64, path.to_string(), body)
    })
    .collect()
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The `h2` scenario, live or replayed: four streams on one decrypted TLS connection,
/// each answered 200 with its known body, the answers interleaved (multiplexing).
fn check_h2(d: &Value, err: &str, keys_from: &str) {
    let c = &d["connections"].as_array().unwrap()[0];
    assert_eq!(d["connections"].as_array().unwrap().len(), 1, "{d}");
    let t = &c["tls"];
    assert_eq!(
        (&t["alpn"], &t["decrypted"]),
        (&"h2".into(), &true.into()),
        "{t}"
    );
    assert_eq!(t["keys_from"], keys_from, "{t}");
    assert_eq!(t["decrypt_failures"], 0, "{t}");
    assert_eq!(c["http2"]["origin"], "tls", "{c}");
    let http = c["http"].as_array().unwrap();
    let got: Vec<(u64, String, u64, String)> = http
        .iter()
        .map(|x| {
            (
                x["stream_id"].as_u64().unwrap(),
                x["request"]["uri"].as_str().unwrap().to_string(),
                x["response"]["status"].as_u64().unwrap(),
                x["response"]["body_sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(u64, String, u64, String)> = h2_answers()
        .into_iter()
        .map(|(id, p, b)| (id, p, 200, sha256_hex(b.as_bytes())))
        .collect();
    assert_eq!(got, want, "{c}");
    // 4 HEADERS from each side, 3+2+4+1 DATA frames from the server, one client GOAWAY.
    let f = &c["http2"]["frames"];
    assert_eq!(f["client"]["HEADERS"], 4, "{f}");
    assert_eq!(f["server"]["HEADERS"], 4, "{f}");
    assert_eq!(f["server"]["DATA"], 10, "{f}");
    assert_eq!(c["http2"]["goaway"]["from"], "client");
    assert_eq!(c["http2"]["goaway"]["error"], "NO_ERROR");
    // Multiplexing: every later stream's answer starts before the first one's ends.
    let span = |x: &Value| {
        (
            x["response"]["frame"].as_u64().unwrap(),
            x["response"]["end_frame"].as_u64().unwrap(),
        )
    };
    let first = span(&http[0]);
    for x in &http[1..] {
        assert!(
            span(x).0 < first.1,
            "interleaved: {:?} vs {first:?}",
            span(x)
        );
    }
    assert!(err.contains("Multiplexed: 4 streams"), "{err}");
}

#[test]
fn h2_replay_shows_four_interleaved_streams() {
    let (d, err) = demo("h2", &["--replay"]);
    assert_eq!(d["capture"]["file"], "bundled:captures/demo-h2.pcapng");
    check_h2(&d, &err, "dsb");
}

#[test]
#[cfg_attr(not(tcpscope_root), ignore = "needs root: live capture on lo")]
fn demo_h2() {
    if let Some(why) = cannot_capture() {
        eprintln!("skipping: cannot capture on lo ({})", why.trim());
        return;
    }
    let (d, err) = demo("h2", &[]);
    assert!(!err.contains("replaying"), "{err}");
    assert_eq!(d["capture"]["file"], "live:lo", "{d}");
    check_h2(&d, &err, "keylog");
}
