//! The report's output conventions (issue 17, items 5, 8, 9, 10), on the real binary: the
//! text table fits the width it is given with its columns aligned and no trailing spaces,
//! `--packets` lists every packet in text, colour never moves a column, warnings of a
//! damaged capture reach standard error (and `--strict` the exit status), and the
//! progress bar shows on a terminal only.

mod common;

use common::pcapgen::Cap;
use common::tmux::Tmux;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use unicode_width::UnicodeWidthStr;

const BIN: &str = env!("CARGO_BIN_EXE_tcpscope");

/// `tcpscope ARGS` with `env` set, and COLUMNS / NO_COLOR unset unless `env` sets them.
fn tcpscope(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).env_remove("COLUMNS").env_remove("NO_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("tcpscope runs")
}

fn stdout(args: &[&str], env: &[(&str, &str)]) -> String {
    let o = tcpscope(args, env);
    assert!(
        o.status.success(),
        "tcpscope {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8")
}

fn cap(name: &str) -> String {
    common::bundled(name).to_string_lossy().into_owned()
}

fn json_report(file: &str) -> Value {
    common::json(stdout(&["report", file, "--format", "json"], &[]).as_bytes())
}

/// `s` without its SGR colour codes.
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\x1b' && it.peek() == Some(&'[') {
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The text table's header line and each connection's row (id, line).
fn table(text: &str) -> (String, Vec<(u64, String)>) {
    let mut lines = text.lines();
    let header = lines.next().expect("a header").to_string();
    assert!(header.trim_start().starts_with("ID"), "{header}");
    let rows = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let id = l.split_whitespace().next()?.parse().ok()?;
            Some((id, l.to_string()))
        })
        .collect();
    (header, rows)
}

/// The display column where `name` starts in the header, if shown.
fn column(header: &str, name: &str) -> Option<usize> {
    header.find(name).map(|i| header[..i].width())
}

/// The word of `row` starting at display column `at` (up to the next space).
fn word_at(row: &str, at: usize) -> String {
    let rest: String = row.chars().skip(at).collect();
    rest.split(' ').next().unwrap_or("").to_string()
}

/// The rest of `row` from display column `at` (the last column).
fn rest_at(row: &str, at: usize) -> String {
    row.chars().skip(at).collect()
}

const CAPTURES: [&str; 7] = [
    "tcp-lossy-client-side.pcap",
    "http-keepalive.pcap",
    "demo-refused.pcap",
    "http-ipv6.pcap",
    "tcp-midstream.pcap",
    "http-pipelined.pcap",
    "tcp-zero-window.pcap",
];

#[test]
fn the_text_table_fits_the_width_with_every_column_aligned() {
    for name in CAPTURES {
        let file = cap(name);
        let j = json_report(&file);
        let conns = j["connections"].as_array().unwrap();
        for w in [60usize, 80, 100, 160] {
            let ws = w.to_string();
            let text = stdout(&["report", &file], &[("COLUMNS", &ws)]);
            // The summary's `capture FILE` line names the file whole.
            for l in text.lines().filter(|l| !l.starts_with("capture ")) {
                assert!(l.width() <= w, "{name} at {w}: {} wide: {l:?}", l.width());
                assert!(!l.ends_with(' '), "{name} at {w}: trailing space: {l:?}");
            }
            let (header, rows) = table(&text);
            assert_eq!(rows.len(), conns.len(), "{name} at {w}:\n{text}");
            let state = column(&header, "STATE").expect("STATE is never left out");
            let bytes = column(&header, "BYTES").expect("BYTES is never left out");
            // Its header: `BYTES C/S`, or `BYTES` when narrowed.
            let head_w = if header.contains("BYTES C/S") { 9 } else { 5 };
            for ((id, row), c) in rows.iter().zip(conns) {
                assert_eq!(*id, c["id"].as_u64().unwrap());
                assert_eq!(
                    word_at(row, state),
                    c["conn_state"].as_str().unwrap(),
                    "{name} at {w}: STATE misaligned:\n{header}\n{row}"
                );
                let b = format!(
                    "{}/{}",
                    c["payload_bytes"]["client"], c["payload_bytes"]["server"]
                );
                // Right-aligned: the number ends where the header ends.
                let end = bytes + head_w;
                let cell: String = row.chars().take(end).collect();
                assert!(
                    cell.ends_with(&format!(" {b}")),
                    "{name} at {w}: BYTES misaligned or cut:\n{header}\n{row}"
                );
            }
        }
    }
}

/// `n` short connections (each on its own client port): handshake, request, reply, close;
/// every seventh is refused instead, every fifth loses its reply's first copy.
fn many_connections(n: u16) -> PathBuf {
    let mut cap = Cap::new();
    for k in 0..n {
        cap.client_port = 20000 + k;
        let t = i64::from(k) * 10_000;
        if k % 7 == 3 {
            cap.seg(t, true, "S", 1000, 0, b"");
            cap.seg(t + 100, false, "RA", 0, 1001, b"");
            continue;
        }
        cap.seg(t, true, "S", 1000, 0, b"");
        cap.seg(t + 100, false, "SA", 5000, 1001, b"");
        cap.seg(t + 200, true, "A", 1001, 5001, b"");
        cap.seg(
            t + 300,
            true,
            "PA",
            1001,
            5001,
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        if k % 5 == 0 {
            cap.seg(
                t + 400,
                false,
                "PA",
                5001,
                1028,
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            );
        }
        cap.seg(
            t + 900,
            false,
            "PA",
            5001,
            1028,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        );
        cap.seg(t + 1000, true, "FA", 1028, 5041, b"");
        cap.seg(t + 1100, false, "FA", 5041, 1029, b"");
        cap.seg(t + 1200, true, "A", 1029, 5042, b"");
    }
    cap.write("many")
}

#[test]
fn rows_beyond_the_measured_ones_keep_to_the_columns() {
    let path = many_connections(150);
    let file = path.to_string_lossy().into_owned();
    let j = json_report(&file);
    let conns = j["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 150);
    for w in [80usize, 120] {
        let ws = w.to_string();
        let text = stdout(&["report", &file], &[("COLUMNS", &ws)]);
        for l in text.lines().filter(|l| !l.starts_with("capture ")) {
            assert!(l.width() <= w, "at {w}: {l:?}");
            assert!(!l.ends_with(' '), "at {w}: {l:?}");
        }
        let (header, rows) = table(&text);
        assert_eq!(rows.len(), 150, "{text}");
        let state = column(&header, "STATE").unwrap();
        let server = column(&header, "SERVER").unwrap();
        let client = column(&header, "CLIENT").unwrap();
        for ((id, row), c) in rows.iter().zip(conns) {
            assert_eq!(*id, c["id"].as_u64().unwrap());
            assert_eq!(word_at(row, client), c["client"].as_str().unwrap(), "{row}");
            assert_eq!(
                word_at(row, state),
                c["conn_state"].as_str().unwrap(),
                "{row}"
            );
            assert_eq!(word_at(row, server), c["server"].as_str().unwrap(), "{row}");
        }
        let refused = rows
            .iter()
            .filter(|(_, r)| word_at(r, state) == "REJ")
            .count();
        assert_eq!(refused, 21, "every seventh of 150 refused");
    }
}

#[test]
fn a_narrow_table_says_which_columns_it_left_out_and_wide_shows_them() {
    let file = cap("tcp-lossy-client-side.pcap");
    let narrow = stdout(&["report", &file], &[("COLUMNS", "60")]);
    let note = narrow
        .lines()
        .find(|l| l.starts_with("hidden to fit 60 columns (--wide shows them): HANDSHAKE"))
        .unwrap_or_else(|| panic!("no note:\n{narrow}"));
    assert!(note.width() <= 60, "{note}");
    assert!(!table(&narrow).0.contains("HANDSHAKE"));
    let wide = stdout(&["report", &file, "--wide"], &[("COLUMNS", "60")]);
    let piped = stdout(&["report", &file], &[]);
    assert_eq!(wide, piped, "--wide is the full table, as piped");
    let (header, rows) = table(&wide);
    for h in [
        "ID",
        "CLIENT",
        "SERVER",
        "APP",
        "STATE",
        "HANDSHAKE",
        "iRTT ms",
        "DURATION",
        "PKTS C/S",
        "BYTES C/S",
        "HTTP",
        "ANALYSIS",
    ] {
        assert!(header.contains(h), "{h} missing: {header}");
    }
    assert!(
        rows[0]
            .1
            .ends_with("retrans 14, ooo 12, dup-ack 40, lost 23")
    );
    // At 60 columns the analysis wraps at its commas, under its column (or under the
    // row when even that leaves too little room), never cut.
    let lines: Vec<&str> = narrow
        .lines()
        .take_while(|l| !l.is_empty() && !l.starts_with("hidden"))
        .collect();
    let below = !lines[0].contains("ANALYSIS");
    let at = column(lines[usize::from(below)], "ANALYSIS").unwrap();
    let texts: Vec<String> = lines
        .iter()
        .skip(1 + usize::from(below))
        .filter(|l| !below || l.split_whitespace().next().unwrap().parse::<u64>().is_err())
        .map(|l| rest_at(l, at))
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(
        texts.join(" "),
        "retrans 14, ooo 12, dup-ack 40, lost 23",
        "{narrow}"
    );
}

/// An IPv6 connection with long addresses: handshake, one request, close.
fn ipv6_capture() -> PathBuf {
    use etherparse::PacketBuilder;
    let c: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0x85, 0xa3, 0x12, 0x34, 0x56, 0x78, 0x8a, 0x2e, 0x03, 0x70, 0x73,
        0x34,
    ];
    let s: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0x43, 0x21, 0x11, 0x22, 0x33, 0x44, 0xab, 0xcd, 0x00,
        0x01,
    ];
    let mut pcap = common::pcap::Pcap::new();
    let mut frame = |t: i64, from_client: bool, flags: &str, seq: u32, ack: u32, data: &[u8]| {
        let (src, dst, sp, dp) = if from_client {
            (c, s, 51000, 443)
        } else {
            (s, c, 443, 51000)
        };
        let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv6(src, dst, 64)
            .tcp(sp, dp, seq, 64000);
        for ch in flags.chars() {
            b = match ch {
                'S' => b.syn(),
                'A' => b.ack(ack),
                'F' => b.fin(),
                'P' => b.psh(),
                _ => b,
            };
        }
        let mut bytes = Vec::new();
        b.write(&mut bytes, data).unwrap();
        pcap.record(t * 1000, &bytes);
    };
    frame(0, true, "S", 100, 0, b"");
    frame(100, false, "SA", 500, 101, b"");
    frame(200, true, "A", 101, 501, b"");
    frame(300, true, "PA", 101, 501, b"hello");
    frame(400, false, "A", 501, 106, b"");
    frame(500, true, "FA", 106, 501, b"");
    frame(600, false, "FA", 501, 107, b"");
    frame(700, true, "A", 107, 502, b"");
    pcap.write("v6.pcap")
}

#[test]
fn ipv6_endpoints_shorten_with_an_ellipsis_keeping_the_port() {
    let path = ipv6_capture();
    let file = path.to_string_lossy();
    let client = "[2001:db8:85a3:1234:5678:8a2e:370:7334]:51000";
    let server = "[2001:db8:ffff:4321:1122:3344:abcd:1]:443";
    let j = json_report(&file);
    assert_eq!(j["connections"][0]["client"], client);
    assert_eq!(j["connections"][0]["server"], server);
    let narrow = stdout(&["report", &file], &[("COLUMNS", "80")]);
    let (header, rows) = table(&narrow);
    let row = &rows[0].1;
    assert!(row.width() <= 80, "{row}");
    let c = word_at(row, column(&header, "CLIENT").unwrap());
    let s = word_at(row, column(&header, "SERVER").unwrap());
    for (short, full, port) in [(&c, client, "]:51000"), (&s, server, "]:443")] {
        let (head, tail) = short.split_once('…').unwrap_or_else(|| panic!("{short}"));
        assert!(
            full.starts_with(head) && full.ends_with(tail),
            "{short} of {full}"
        );
        assert!(tail.ends_with(port) && head.len() > 1, "{short}");
    }
    assert_eq!(word_at(row, column(&header, "STATE").unwrap()), "SF");
    for full in [
        stdout(&["report", &file, "--wide"], &[("COLUMNS", "80")]),
        stdout(&["report", &file], &[]),
    ] {
        let (header, rows) = table(&full);
        let row = &rows[0].1;
        assert_eq!(word_at(row, column(&header, "CLIENT").unwrap()), client);
        assert_eq!(word_at(row, column(&header, "SERVER").unwrap()), server);
    }
}

#[test]
fn no_line_of_any_text_report_ends_in_a_space() {
    let dir = common::bundled("");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "pcap") {
            continue;
        }
        let f = p.to_string_lossy().into_owned();
        for args in [vec!["report", &f], vec!["report", &f, "--packets"]] {
            for env in [vec![], vec![("COLUMNS", "80")]] {
                let text = stdout(&args, &env);
                for (k, l) in text.lines().enumerate() {
                    assert!(!l.ends_with(' '), "{f} {args:?} line {}: {l:?}", k + 1);
                }
            }
        }
        n += 1;
    }
    assert!(n >= 30, "only {n} bundled captures");
}

#[test]
fn packets_in_text_are_the_json_packet_list_line_for_line() {
    for name in [
        "tcp-lossy-client-side.pcap",
        "http-get.pcap",
        "tcp-refused.pcap",
    ] {
        let file = cap(name);
        let j = common::json(
            stdout(&["report", &file, "--format", "json", "--packets"], &[]).as_bytes(),
        );
        let text = stdout(&["report", &file, "--packets"], &[]);
        let mut lines = text.lines().skip(1);
        for c in j["connections"].as_array().unwrap() {
            let row = lines.next().unwrap();
            assert_eq!(row.split_whitespace().next(), Some(&*c["id"].to_string()));
            let head = lines.next().unwrap();
            assert_eq!(
                head.split_whitespace().collect::<Vec<_>>(),
                [
                    "FRAME", "TIME", "DIR", "FLAGS", "SEQ", "ACK", "LEN", "WIN", "ANALYSIS"
                ]
            );
            let start = c["start_ts"].as_f64().unwrap();
            for p in c["packet_list"].as_array().unwrap() {
                let l = lines.next().expect("a line per packet");
                let flags = p["flags"].as_str().unwrap();
                let dir = if p["dir"] == "client" {
                    "C→S"
                } else {
                    "S→C"
                };
                let ack = if flags.contains("ACK") {
                    p["ack"].to_string()
                } else {
                    String::new()
                };
                let t = p["ts"].as_f64().unwrap() - start;
                let win = if p["window_scaled"].is_null() {
                    &p["window"]
                } else {
                    &p["window_scaled"]
                };
                let want = format!(
                    "{} {t:.6} {dir} {flags} {} {ack} {} {win}",
                    p["frame"], p["seq"], p["len"]
                );
                let got = l.split_whitespace().collect::<Vec<_>>().join(" ");
                let want = want.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(got.starts_with(&want), "{name}:\n got {got}\nwant {want}");
                let rest = got[want.len()..].trim();
                let flagged = !p["analysis"].as_array().unwrap().is_empty();
                assert_eq!(!rest.is_empty(), flagged, "{name}: {got}");
                if let Some(n) = p.get("dup_ack_num") {
                    assert!(rest.contains(&format!("Dup ACK #{n}")), "{got}");
                }
            }
        }
        assert_eq!(lines.next(), Some(""), "{name}: the summary follows");
    }
}

#[test]
fn colour_paints_states_and_flags_and_never_moves_a_column() {
    for (name, code) in [
        ("http-get.pcap", "\x1b[32mSF\x1b[0m"),
        ("tcp-refused.pcap", "\x1b[31mREJ\x1b[0m"),
        ("tcp-lossy-client-side.pcap", "\x1b[33mretrans 14"),
    ] {
        let file = cap(name);
        let plain = stdout(&["report", &file], &[("COLUMNS", "80")]);
        assert!(!plain.contains('\x1b'), "auto into a pipe: no colour");
        let never = stdout(&["report", &file, "--color", "never"], &[("COLUMNS", "80")]);
        assert_eq!(never, plain);
        for env in [
            vec![("COLUMNS", "80")],
            vec![("COLUMNS", "80"), ("NO_COLOR", "1")],
        ] {
            let always = stdout(&["report", &file, "--color", "always"], &env);
            assert!(always.contains(code), "{name}: {always}");
            assert_eq!(strip_ansi(&always), plain, "{name}: colour moved text");
        }
        let packets = stdout(&["report", &file, "--packets", "--color", "always"], &[]);
        let packets_plain = stdout(&["report", &file, "--packets"], &[]);
        assert_eq!(strip_ansi(&packets), packets_plain);
    }
    let file = cap("tcp-lossy-client-side.pcap");
    let ex = stdout(&["explain", &file, "--color", "always"], &[]);
    let ex_plain = stdout(&["explain", &file], &[]);
    assert!(
        ex.contains("\x1b[33m⚠ Retransmission"),
        "explain colours its warnings"
    );
    assert!(!ex_plain.contains('\x1b'));
    assert_eq!(strip_ansi(&ex), ex_plain);
}

#[test]
fn colour_auto_on_a_terminal_unless_no_color_is_set() {
    let Some(t) = Tmux::shell("color", 160, 45, &[]) else {
        return;
    };
    let file = cap("tcp-refused.pcap");
    let pane = |t: &Tmux| t.run(&["capture-pane", "-e", "-p", "-t", &t.name]);
    t.keys(&[&format!("{BIN} report {file}; echo end-one"), "Enter"]);
    t.wait("the first report", |p| p.contains("\nend-one"));
    assert!(pane(&t).contains("\x1b[31mREJ"), "{}", pane(&t));
    t.keys(&["clear", "Enter"]);
    t.keys(&[
        &format!("NO_COLOR=1 {BIN} report {file}; echo end-two"),
        "Enter",
    ]);
    t.wait("the second report", |p| p.contains("\nend-two"));
    let p = pane(&t);
    assert!(p.contains("REJ") && !p.contains("\x1b[31m"), "{p}");
}

/// A capture whose last record is cut short (the file ends inside it).
fn cut_capture() -> PathBuf {
    let mut cap = Cap::new();
    cap.seg(0, true, "S", 1000, 0, b"");
    cap.seg(100, false, "SA", 5000, 1001, b"");
    cap.seg(200, true, "A", 1001, 5001, b"");
    cap.seg(
        300,
        true,
        "PA",
        1001,
        5001,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    cap.seg(400, false, "PA", 5001, 1028, &[b'x'; 300]);
    let p = cap.write("cut");
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() - 100]).unwrap();
    p
}

#[test]
fn a_damaged_capture_warns_on_stderr_in_every_format_and_strict_fails() {
    let path = cut_capture();
    let file = path.to_string_lossy().into_owned();
    let j = json_report(&file);
    let warnings: Vec<String> = j["capture"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| format!("tcpscope: warning: {file}: {}", w.as_str().unwrap()))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("reading stopped after packet 4"),
        "{warnings:?}"
    );
    for format in ["text", "json", "ndjson"] {
        let plain = tcpscope(&["report", &file, "--format", format], &[]);
        assert!(plain.status.success());
        let err = String::from_utf8_lossy(&plain.stderr);
        assert_eq!(err.lines().collect::<Vec<_>>(), warnings, "{format}");
        let strict = tcpscope(&["report", &file, "--format", format, "--strict"], &[]);
        assert_eq!(strict.status.code(), Some(1), "{format}");
        assert_eq!(
            strict.stdout, plain.stdout,
            "{format}: the report is written whole"
        );
        let err = String::from_utf8_lossy(&strict.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines[..1], warnings[..], "{format}");
        assert_eq!(
            lines[1..],
            [format!(
                "tcpscope: {file}: 1 warning and --strict: the output above may be incomplete"
            )],
            "{format}"
        );
    }
    let out = std::env::temp_dir().join(format!("tcpscope-out-export-{}", std::process::id()));
    let out = out.to_string_lossy().into_owned();
    for args in [
        vec!["explain", &file],
        vec!["diagram", &file, "--format", "ascii"],
        vec!["export-http", &file, "-o", &out],
    ] {
        let o = tcpscope(&args, &[]);
        assert!(o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().collect::<Vec<_>>(), warnings, "{args:?}");
        let mut strict = args.clone();
        strict.push("--strict");
        assert_eq!(tcpscope(&strict, &[]).status.code(), Some(1), "{strict:?}");
    }
    // A whole capture: nothing on stderr, and --strict succeeds.
    let whole = tcpscope(&["report", &cap("http-get.pcap"), "--strict"], &[]);
    assert!(whole.status.success());
    assert!(whole.stderr.is_empty());
}

/// A capture of some 20 MB (a read long enough for the bar to be drawn many times), made by the
/// shared benchmark generator; None (with a message) without python3 or the script.
fn big_capture() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen_http_pcap.py");
    if !script.is_file() {
        eprintln!("skipping: {} is missing", script.display());
        return None;
    }
    let dir = std::env::temp_dir().join(format!("tcpscope-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("big.pcap");
    let made = Command::new("python3")
        .arg(&script)
        .arg("--out")
        .arg(&out)
        .args(["--flows", "300", "--requests", "4", "--body", "16384"])
        .output();
    match made {
        Ok(o) if o.status.success() => Some(out),
        Ok(o) => panic!("generator failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            eprintln!("skipping: python3 cannot run ({e})");
            None
        }
    }
}

/// The bytes `log` gained after its first `from` bytes, once they satisfy `f` (20 s at
/// most: tmux copies the pane's output to the log as it comes).
fn log_after(log: &Path, from: usize, what: &str, f: impl Fn(&str) -> bool) -> String {
    let t0 = std::time::Instant::now();
    loop {
        let all = std::fs::read(log).unwrap_or_default();
        let new = String::from_utf8_lossy(all.get(from..).unwrap_or_default()).into_owned();
        if f(&new) {
            return new;
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(20),
            "timed out waiting for {what}; the log has:\n{new}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn a_progress_bar_shows_on_a_terminal_only() {
    let Some(big) = big_capture() else {
        return;
    };
    let big = big.to_string_lossy().into_owned();
    let dir = Path::new(&big).parent().unwrap().to_path_buf();
    // The bar shows at once (not after half a second): on any machine, however fast it
    // reads, a bar is drawn; everything the terminal was sent is recorded, so a bar
    // drawn and wiped between two looks at the pane is still seen.
    let Some(t) = Tmux::shell("progress", 160, 45, &["TCPSCOPE_PROGRESS_DELAY_MS=0"]) else {
        return;
    };
    let log = dir.join("terminal.log");
    let _ = std::fs::remove_file(&log);
    t.record(&log);
    let out_tty = dir.join("tty.ndjson");
    t.keys(&[
        &format!(
            "{BIN} report {big} --format ndjson --threads 1 > {}; echo status=$?",
            out_tty.display()
        ),
        "Enter",
    ]);
    let ended = |p: &str| (0..3).any(|k| p.contains(&format!("status={k}")));
    let sent = log_after(&log, 0, "the report", ended);
    assert!(sent.contains("status=0"), "{sent}");
    assert!(sent.contains("ETA"), "no progress bar:\n{sent}");
    assert!(sent.contains(" packets · "), "{sent}");
    let done = t.wait("the report", ended);
    assert!(
        !done.contains("ETA"),
        "the bar is wiped at the end:\n{done}"
    );
    // With --quiet: the same run, never a bar.
    let mark = std::fs::read(&log).unwrap().len();
    t.keys(&["clear", "Enter"]);
    t.keys(&[
        &format!("{BIN} report {big} --format ndjson --threads 1 -q > /dev/null; echo status=$?"),
        "Enter",
    ]);
    let quiet = log_after(&log, mark, "the quiet report", ended);
    assert!(!quiet.contains("ETA"), "--quiet showed a bar:\n{quiet}");
    // With the usual delay a short read shows no bar at all.
    let mark = std::fs::read(&log).unwrap().len();
    t.keys(&["clear", "Enter"]);
    t.keys(&[
        &format!(
            "env -u TCPSCOPE_PROGRESS_DELAY_MS {BIN} report {} > /dev/null; echo status=$?",
            cap("http-get.pcap")
        ),
        "Enter",
    ]);
    let short = log_after(&log, mark, "the short report", ended);
    assert!(short.contains("status=0"), "{short}");
    assert!(
        !short.contains("ETA"),
        "a short read showed a bar:\n{short}"
    );
    // Standard error piped: nothing on it, and standard output the same bytes.
    let piped = tcpscope(
        &["report", &big, "--format", "ndjson", "--threads", "1"],
        &[],
    );
    assert!(piped.status.success());
    assert!(
        piped.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert_eq!(piped.stdout, std::fs::read(&out_tty).unwrap());
}
