//! The live TUI in a real terminal (tmux), capturing on loopback while the test runs an
//! HTTP server and client: the connection appears, its ladder and states show, freezing
//! the display counts waiting packets, and `q` leaves a whole `-w` file. Skipped with a
//! message without tmux, root, or loopback capture.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
mod common;

use common::tmux::Tmux;
use std::process::Command;

fn skip_reason() -> Option<String> {
    if Command::new("tmux").arg("-V").output().is_err() {
        return Some("tmux is not installed".into());
    }
    common::cannot_capture().map(|why| format!("cannot capture on lo: {}", why.trim()))
}

/// A server answering `n` GETs, one connection each.
fn serve(n: usize) -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        for _ in 0..n {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let k = s.read(&mut chunk).unwrap();
                if k == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..k]);
            }
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
                .unwrap();
        }
    });
    (port, h)
}

fn get(port: u16, path: &str) {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut s = String::new();
    c.read_to_string(&mut s).unwrap();
}

#[test]
#[cfg_attr(
    not(all(tcpscope_root, tcpscope_tmux)),
    ignore = "needs root and tmux: the live TUI in a tmux pane"
)]
fn live_tui_shows_connection_ladder_states_freeze_and_quits_cleanly() {
    if let Some(why) = skip_reason() {
        eprintln!("skipping: {why}");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_tcpscope");
    let (port, server) = serve(2);
    let pcap = std::env::temp_dir().join(format!("tcpscope-live-tui-{}.pcap", std::process::id()));
    let Some(t) = Tmux::shell("live", 160, 40, &[]) else {
        return;
    };
    t.keys(&[
        &format!(
            "{bin} live -i lo -f 'tcp port {port}' -w {}",
            pcap.display()
        ),
        "Enter",
    ]);
    t.wait("the live status", |p| {
        p.contains("live lo") && p.contains("capturing")
    });
    get(port, "/first");
    let server_addr = format!("127.0.0.1:{port}");
    let p = t.wait("the connection in the table", |p| {
        p.contains(&server_addr) && p.contains("1 of 1 connections") && p.contains("http")
    });
    assert!(p.contains("complete"), "handshake complete:\n{p}");
    // Its ladder and both endpoints' states.
    t.keys(&["Enter"]);
    // The whole ladder, not a screen caught while it is still being drawn.
    let p = t.wait("the ladder", |p| {
        p.contains("1 Ladder")
            && p.contains("SYN, ACK")
            && ["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"]
                .iter()
                .all(|s| p.contains(s))
    });
    assert!(p.contains("─ SYN seq=0"), "{p}");
    for st in ["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"] {
        assert!(p.contains(st), "missing {st}:\n{p}");
    }
    t.keys(&["4"]);
    t.wait("the HTTP exchange", |p| {
        p.contains("GET /first") && p.contains("200")
    });
    t.keys(&["Escape"]);
    t.wait("the table again", |p| p.contains("1 of 1 connections"));
    // Freeze: a second exchange is captured but waits; resume shows it.
    t.keys(&["f"]);
    t.wait("frozen", |p| p.contains("❚❚ frozen"));
    get(port, "/second");
    server.join().unwrap();
    let p = t.wait("packets waiting", |p| {
        p.lines()
            .any(|l| l.contains(" waiting (f)") && !l.contains("frozen, 0 waiting"))
    });
    assert!(p.contains("1 of 1 connections"), "still frozen:\n{p}");
    t.keys(&["f"]);
    t.wait("both connections", |p| p.contains("2 of 2 connections"));
    // Quit: the shell is back and the -w file reads whole.
    t.keys(&["q"]);
    let p = t.wait("the shell back", |p| p.contains("packets captured on lo"));
    assert!(p.contains("0 dropped by the kernel"), "{p}");
    let out = Command::new(bin)
        .args(["report", pcap.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("connections 2"), "{text}");
    assert!(!text.contains("warning"), "{text}");
    let _ = std::fs::remove_file(&pcap);
}
