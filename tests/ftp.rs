//! FTP is not SMTP: a 220 greeting is told apart by the client's first command, FTP
//! control connections are `ftp`, and the connections to the endpoints they announce
//! (227 PASV, 229 EPSV, PORT, EPRT) are `ftp-data`. Captures built here with
//! PacketBuilder, checked through the real binary; the public Zeek FTP trace is checked
//! against Zeek's own conn.log when present.

mod common;

use common::json;
use common::pcap::{Pcap, Tcp, report};

const MS: i64 = 1_000_000;
const T0: i64 = 1_700_000_000_000_000_000;

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];

/// A clock that steps one millisecond per packet.
struct Clock(i64);

impl Clock {
    fn tick(&mut self) -> i64 {
        self.0 += MS;
        self.0
    }
}

/// Write `bytes` from one side and have the other acknowledge them.
fn say(p: &mut Pcap, t: &mut Clock, c: &mut Tcp, from_client: bool, bytes: &[u8]) {
    c.seg(p, t.tick(), from_client, "PA", bytes);
    c.seg(p, t.tick(), !from_client, "A", &[]);
}

/// A whole data connection: handshake, `bytes` from the server side of it, close.
fn transfer(
    p: &mut Pcap,
    t: &mut Clock,
    client: ([u8; 4], u16),
    server: ([u8; 4], u16),
    bytes: &[u8],
) {
    let mut d = Tcp::new(client, server);
    d.handshake(p, t.tick(), 2 * MS);
    t.tick();
    t.tick();
    say(p, t, &mut d, false, bytes);
    d.close(p, t.tick(), MS);
    t.tick();
    t.tick();
}

/// Control 10.0.0.1:50000 -> 10.0.0.2:21 announcing, in turn: PASV 10.0.0.2:50000,
/// EPSV port 50001, PORT 10.0.0.1:40004, EPRT 10.0.0.1:40005; a data connection follows
/// each. Decoys: 10.0.0.2:50002 and 10.0.0.3:50000 (never announced), and a connection to
/// 10.0.0.2:50001 that starts before the EPSV reply announcing it.
fn ftp_session() -> std::path::PathBuf {
    let mut p = Pcap::new();
    let mut t = Clock(T0);
    let mut ctl = Tcp::new((C, 50000), (S, 21));
    ctl.handshake(&mut p, t.tick(), 2 * MS);
    t.tick();
    t.tick();
    say(&mut p, &mut t, &mut ctl, false, b"220 (vsFTPd 3.0.3)\r\n");
    say(&mut p, &mut t, &mut ctl, true, b"USER anonymous\r\n");
    say(
        &mut p,
        &mut t,
        &mut ctl,
        false,
        b"331 Please specify the password.\r\n",
    );
    say(&mut p, &mut t, &mut ctl, true, b"PASS guest\r\n");
    say(
        &mut p,
        &mut t,
        &mut ctl,
        false,
        b"230 Login successful.\r\n",
    );
    say(&mut p, &mut t, &mut ctl, true, b"PASV\r\n");
    // The reply in two segments: the line is found across them.
    say(
        &mut p,
        &mut t,
        &mut ctl,
        false,
        b"227 Entering Passive Mode (10,0,",
    );
    say(&mut p, &mut t, &mut ctl, false, b"0,2,195,80).\r\n");
    // A file whose bytes look like HTTP: still a file.
    let page = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    transfer(&mut p, &mut t, (C, 40001), (S, 50000), page);
    transfer(&mut p, &mut t, (C, 40002), (S, 50002), b"not announced\n");
    transfer(
        &mut p,
        &mut t,
        (C, 40003),
        ([10, 0, 0, 3], 50000),
        b"other host\n",
    );
    transfer(&mut p, &mut t, (C, 40006), (S, 50001), b"too early\n");
    say(&mut p, &mut t, &mut ctl, true, b"EPSV\r\n");
    say(
        &mut p,
        &mut t,
        &mut ctl,
        false,
        b"229 Entering Extended Passive Mode (|||50001|)\r\n",
    );
    transfer(&mut p, &mut t, (C, 40007), (S, 50001), b"listing\r\n");
    say(&mut p, &mut t, &mut ctl, true, b"PORT 10,0,0,1,156,68\r\n");
    say(
        &mut p,
        &mut t,
        &mut ctl,
        false,
        b"200 PORT command successful.\r\n",
    );
    transfer(&mut p, &mut t, (S, 20), (C, 40004), b"active\n");
    say(
        &mut p,
        &mut t,
        &mut ctl,
        true,
        b"EPRT |1|10.0.0.1|40005|\r\n",
    );
    say(
        &mut p,
        &mut t,
        &mut ctl,
        false,
        b"200 EPRT command successful.\r\n",
    );
    transfer(&mut p, &mut t, (S, 20), (C, 40005), b"extended active\n");
    say(&mut p, &mut t, &mut ctl, true, b"QUIT\r\n");
    say(&mut p, &mut t, &mut ctl, false, b"221 Goodbye.\r\n");
    ctl.close(&mut p, t.tick(), MS);
    p.write("ftp-session.pcap")
}

fn apps(d: &serde_json::Value) -> Vec<(String, String, String)> {
    d["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["client"].as_str().unwrap().to_string(),
                c["server"].as_str().unwrap().to_string(),
                c["app"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn control_and_data_connections_are_labelled() {
    let file = ftp_session();
    let want: Vec<(String, String, String)> = [
        ("10.0.0.1:50000", "10.0.0.2:21", "ftp"),
        ("10.0.0.1:40001", "10.0.0.2:50000", "ftp-data"),
        ("10.0.0.1:40002", "10.0.0.2:50002", "unknown"),
        ("10.0.0.1:40003", "10.0.0.3:50000", "unknown"),
        ("10.0.0.1:40006", "10.0.0.2:50001", "unknown"),
        ("10.0.0.1:40007", "10.0.0.2:50001", "ftp-data"),
        ("10.0.0.2:20", "10.0.0.1:40004", "ftp-data"),
        ("10.0.0.2:20", "10.0.0.1:40005", "ftp-data"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    for threads in ["1", "2", "4"] {
        let d = json(report(&file, "json", &["--threads", threads]).as_bytes());
        assert_eq!(apps(&d), want, "--threads {threads}");
        let data = &d["connections"][1];
        assert!(data["http"].is_null(), "a file is not HTTP: {data}");
    }
    let nd = report(&file, "ndjson", &[]);
    let nd_apps: Vec<String> = nd
        .lines()
        .map(|l| json(l.as_bytes()))
        .filter(|v| v["type"] == "connection")
        .map(|v| v["app"].as_str().unwrap().to_string())
        .collect();
    let want_apps: Vec<String> = want.iter().map(|w| w.2.clone()).collect();
    assert_eq!(nd_apps, want_apps);
    let text = report(&file, "text", &[]);
    let text_apps: Vec<String> = text
        .lines()
        .skip(1)
        .take(want.len())
        .map(|l| l.split_whitespace().nth(3).unwrap().to_string())
        .collect();
    assert_eq!(text_apps, want_apps, "{text}");
}

/// One SMTP-or-FTP-looking session: the greeting, then the client's first line (if any).
fn greeting_session(p: &mut Pcap, t: &mut Clock, port: u16, greeting: &[u8], first: Option<&[u8]>) {
    let mut c = Tcp::new((C, port), (S, 25));
    c.handshake(p, t.tick(), 2 * MS);
    t.tick();
    t.tick();
    say(p, t, &mut c, false, greeting);
    if let Some(f) = first {
        say(p, t, &mut c, true, f);
        say(p, t, &mut c, false, b"250 OK\r\n");
        // Later commands never change the verdict.
        say(p, t, &mut c, true, b"AUTH LOGIN\r\n");
    }
    c.close(p, t.tick(), MS);
    t.tick();
    t.tick();
}

#[test]
fn smtp_stays_smtp_and_a_greeting_alone_decides_nothing() {
    let mut p = Pcap::new();
    let mut t = Clock(T0);
    let g = b"220 mail.example.com ESMTP Postfix\r\n";
    greeting_session(
        &mut p,
        &mut t,
        41000,
        g,
        Some(b"EHLO client.example.com\r\n"),
    );
    greeting_session(&mut p, &mut t, 41001, g, Some(b"HELO client\r\n"));
    greeting_session(
        &mut p,
        &mut t,
        41002,
        g,
        Some(b"MAIL FROM:<a@example.com>\r\n"),
    );
    greeting_session(&mut p, &mut t, 41003, g, None);
    greeting_session(
        &mut p,
        &mut t,
        41004,
        b"220 ftp.example.com FTP\r\n",
        Some(b"SYST\r\n"),
    );
    greeting_session(
        &mut p,
        &mut t,
        41005,
        b"220-multi\r\n220 line\r\n",
        Some(b"FEAT\r\n"),
    );
    greeting_session(&mut p, &mut t, 41006, g, Some(b"NOOP\r\n"));
    let file = p.write("smtp-sessions.pcap");
    let d = json(report(&file, "json", &[]).as_bytes());
    let got: Vec<String> = apps(&d).into_iter().map(|a| a.2).collect();
    assert_eq!(
        got,
        ["smtp", "smtp", "smtp", "unknown", "ftp", "ftp", "unknown"],
        "{d}"
    );
}

/// Zeek's conn.log for its FTP trace names each connection's service (`ftp`,
/// `ftp-data`); ours must agree connection by connection.
#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public (or TCPSCOPE_PUBLIC_CAPTURES)"
)]
fn public_zeek_ftp_trace_matches_zeeks_services() {
    let Some(dir) = common::public_dir() else {
        return;
    };
    let file = dir.join("zeek-ftp-ipv4.pcap");
    let log = dir.join("oracle/zeek-ftp-ipv4.zeek-conn.log");
    if !file.is_file() || !log.is_file() {
        eprintln!("skipping: zeek-ftp-ipv4 or its conn.log is absent");
        return;
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let fields: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    let col = |n: &str| fields.iter().position(|f| *f == n).unwrap();
    let (oh, op, rh, rp, svc) = (
        col("id.orig_h"),
        col("id.orig_p"),
        col("id.resp_h"),
        col("id.resp_p"),
        col("service"),
    );
    let mut want: Vec<(String, String, String)> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let v: Vec<&str> = l.split('\t').collect();
            (
                format!("{}:{}", v[oh], v[op]),
                format!("{}:{}", v[rh], v[rp]),
                v[svc].to_string(),
            )
        })
        .collect();
    want.sort();
    assert_eq!(want.len(), 5);
    for threads in ["1", "4"] {
        let d = json(report(&file, "json", &["--threads", threads]).as_bytes());
        let mut got = apps(&d);
        got.sort();
        assert_eq!(got, want, "--threads {threads}");
    }
}
