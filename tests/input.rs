//! Input as packet people give it (issue 17, Input): `-f` read filters, `-r`/`-c`,
//! several files at once (one after another, or `--merge`), and gzip/zstd/xz captures,
//! all through the real binary.

mod common;

use common::pcap::{Pcap, Tcp};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn tcpscope(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpscope runs");
    if let Some(bytes) = stdin {
        let mut i = child.stdin.take().unwrap();
        i.write_all(bytes).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn ok_json(args: &[&str], stdin: Option<&[u8]>) -> Value {
    let out = tcpscope(args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn ok_text(args: &[&str]) -> String {
    let out = tcpscope(args, None);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The port of an endpoint written "address:port".
fn port(e: &Value) -> u16 {
    e.as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn frames(c: &Value) -> Vec<u64> {
    c["packet_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["frame"].as_u64().unwrap())
        .collect()
}

/// A web connection (port 80) and an SSH one (port 22) interleaved frame by frame: web
/// on odd frames 1-9 and 13-15, SSH on even frames 2-8 and 10-12.
fn web_and_ssh() -> PathBuf {
    let mut p = Pcap::new();
    let mut web = Tcp::new(([10, 0, 0, 1], 40000), ([10, 0, 0, 2], 80));
    let mut ssh = Tcp::new(([10, 0, 0, 1], 41000), ([10, 0, 0, 3], 22));
    let ms = 1_000_000i64;
    let t0 = 1_700_000_000_000_000_000i64;
    web.seg(&mut p, t0, true, "S", &[]);
    ssh.seg(&mut p, t0 + ms, true, "S", &[]);
    web.seg(&mut p, t0 + 2 * ms, false, "SA", &[]);
    ssh.seg(&mut p, t0 + 3 * ms, false, "SA", &[]);
    web.seg(&mut p, t0 + 4 * ms, true, "A", &[]);
    ssh.seg(&mut p, t0 + 5 * ms, true, "A", &[]);
    web.seg(
        &mut p,
        t0 + 6 * ms,
        true,
        "PA",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    ssh.seg(&mut p, t0 + 7 * ms, true, "PA", b"SSH-2.0-test\r\n");
    web.seg(
        &mut p,
        t0 + 8 * ms,
        false,
        "PA",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
    );
    ssh.close(&mut p, t0 + 9 * ms, ms);
    web.close(&mut p, t0 + 12 * ms, ms);
    p.write("web-and-ssh.pcap")
}

#[test]
fn filter_keeps_the_matching_connection_with_the_file_s_frame_numbers() {
    let f = web_and_ssh();
    let f = f.to_str().unwrap();
    let all = ok_json(&["report", "--format", "json", f], None);
    assert_eq!(all["connections"].as_array().unwrap().len(), 2);
    assert_eq!(all["capture"]["packets"], 15);
    assert!(all["capture"].get("packets_filtered_out").is_none());

    let web = ok_json(
        &[
            "report",
            "--format",
            "json",
            "--packets",
            "-f",
            "tcp port 80",
            f,
        ],
        None,
    );
    let conns = web["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1);
    let c = &conns[0];
    assert_eq!(c["id"], 1);
    assert_eq!(port(&c["server"]), 80);
    assert_eq!(
        (c["first_frame"].as_u64(), c["last_frame"].as_u64()),
        (Some(1), Some(15))
    );
    assert_eq!(frames(c), [1, 3, 5, 7, 9, 13, 14, 15]);
    assert_eq!(c["http"].as_array().unwrap().len(), 1);
    // The numbers add up: 8 analysed + 7 left out = the 15 of the file.
    assert_eq!(web["capture"]["packets"], 8);
    assert_eq!(web["capture"]["packets_filtered_out"], 7);

    // The same filter on every command, and its frames: the other connection.
    let ssh = ok_json(
        &[
            "report",
            "--format",
            "json",
            "--packets",
            "--filter",
            "port 22",
            f,
        ],
        None,
    );
    let c = &ssh["connections"][0];
    assert_eq!(port(&c["server"]), 22);
    assert_eq!(frames(c), [2, 4, 6, 8, 10, 11, 12]);
    // Several threads read the same packets.
    let par = ok_json(
        &[
            "report",
            "--format",
            "json",
            "--packets",
            "--threads",
            "2",
            "-f",
            "tcp port 80",
            f,
        ],
        None,
    );
    assert_eq!(par, web);

    let story = ok_text(&["explain", "-f", "tcp port 22", f]);
    assert!(story.contains(":22"), "{story}");
    assert!(!story.contains(":80"), "{story}");
    let ladder = ok_text(&["diagram", "--format", "ascii", "-f", "tcp port 22", f]);
    // The file's frame numbers, only the SSH connection's.
    assert!(ladder.contains("[2] SYN seq=0"), "{ladder}");
    assert!(ladder.contains("[12] ACK seq=16"), "{ladder}");
    assert!(
        !ladder.contains("[1] ") && !ladder.contains("[3] "),
        "{ladder}"
    );
}

#[test]
fn a_bad_filter_is_located_and_exits_1() {
    let f = web_and_ssh();
    for cmd in [
        &["report", "-f", "tcp prot 80"][..],
        &["explain", "-f", "tcp prot 80"],
        &["diagram", "-f", "tcp prot 80"],
        &["open", "-f", "tcp prot 80"],
        &["-f", "tcp prot 80"],
    ] {
        let mut args = cmd.to_vec();
        args.push(f.to_str().unwrap());
        let out = tcpscope(&args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err,
            "tcpscope: bad read filter: can't parse filter expression: syntax error\n  tcp prot 80\n      ^^^^\nsee `man pcap-filter` for the syntax (e.g. `tcp port 80 and host 10.0.0.1`)\n",
            "{args:?}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn count_stops_after_n_packets_that_pass_the_filter() {
    let f = web_and_ssh();
    let f = f.to_str().unwrap();
    let r = ok_json(
        &["report", "--format", "json", "--packets", "-c", "5", f],
        None,
    );
    assert_eq!(r["capture"]["packets"], 5);
    assert_eq!(frames(&r["connections"][0]), [1, 3, 5]);
    assert_eq!(frames(&r["connections"][1]), [2, 4]);
    // -c counts what passes -f, as tcpdump does: 4 web packets, frames 1 to 7; frame 8
    // onwards is not read.
    let r = ok_json(
        &[
            "report",
            "--format",
            "json",
            "--packets",
            "-c",
            "4",
            "-f",
            "tcp port 80",
            f,
        ],
        None,
    );
    assert_eq!(r["capture"]["packets"], 4);
    assert_eq!(r["capture"]["packets_filtered_out"], 3);
    assert_eq!(frames(&r["connections"][0]), [1, 3, 5, 7]);
    // explain and diagram: the connection stops where the count did.
    let story = ok_text(&["explain", "-c", "3", "-r", f]);
    let told: Vec<&str> = story
        .lines()
        .filter(|l| l.starts_with("Frame "))
        .map(|l| l.split("  ").next().unwrap())
        .collect();
    assert_eq!(told, ["Frame 1", "Frame 3", "Frame 2"], "{story}");
    let all = ok_text(&["diagram", "--format", "ascii", "-r", f]);
    let three = ok_text(&["diagram", "--format", "ascii", "-c", "3", "-r", f]);
    assert!(three.lines().count() < all.lines().count(), "{three}");
}

#[test]
fn dash_r_is_the_positional_file() {
    let f = common::bundled("http-get.pcap");
    let f = f.to_str().unwrap();
    for cmd in [
        &["report", "--format", "json"][..],
        &["explain"],
        &["diagram", "--format", "ascii"],
    ] {
        let mut pos = cmd.to_vec();
        pos.push(f);
        let mut r = cmd.to_vec();
        r.extend(["-r", f]);
        let (a, b) = (tcpscope(&pos, None), tcpscope(&r, None));
        assert!(a.status.success() && b.status.success(), "{r:?}");
        assert_eq!(a.stdout, b.stdout, "{r:?}");
    }
    // Both at once is a usage error.
    let out = tcpscope(&["report", "-r", f, f], None);
    assert_eq!(out.status.code(), Some(2));
}

/// Two captures of the same server taken at once on two hosts: connection A (client
/// port 40000) from t=0 ms, B (41000) from t=0.5 ms, each 4 packets 1 ms apart.
fn two_captures() -> (PathBuf, PathBuf) {
    let ms = 1_000i64;
    let mut a = common::pcapgen::Cap::new();
    a.client_port = 40000;
    let mut b = common::pcapgen::Cap::new();
    b.client_port = 41000;
    for (cap, t0) in [(&mut a, 0i64), (&mut b, ms / 2)] {
        cap.seg(t0, true, "S", 100, 0, &[]);
        cap.seg(t0 + ms, false, "SA", 900, 101, &[]);
        cap.seg(t0 + 2 * ms, true, "A", 101, 901, &[]);
        cap.seg(t0 + 3 * ms, true, "RA", 101, 901, &[]);
    }
    (a.write("host-a"), b.write("host-b"))
}

#[test]
fn merge_interleaves_by_time_like_mergecap() {
    let (a, b) = two_captures();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let r = ok_json(
        &["report", "--merge", "--format", "json", "--packets", b, a],
        None,
    );
    let conns = r["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 2);
    // A's SYN is first in time although its file was given second.
    assert_eq!(conns[0]["id"], 1);
    assert_eq!(port(&conns[0]["client"]), 40000);
    assert_eq!(frames(&conns[0]), [1, 3, 5, 7]);
    assert_eq!(conns[1]["id"], 2);
    assert_eq!(port(&conns[1]["client"]), 41000);
    assert_eq!(frames(&conns[1]), [2, 4, 6, 8]);
    assert!(conns[0].get("file").is_none());
    assert_eq!(r["capture"]["packets"], 8);
    assert_eq!(r["capture"]["file"], format!("{b} + {a}"));
    // mergecap's frame order, when mergecap is there to ask.
    let merged = std::env::temp_dir().join(format!("tcpscope-merged-{}.pcap", std::process::id()));
    if let Ok(st) = Command::new("mergecap")
        .args(["-F", "pcap", "-w", merged.to_str().unwrap(), b, a])
        .status()
        && st.success()
    {
        let mut m = ok_json(
            &[
                "report",
                "--format",
                "json",
                "--packets",
                merged.to_str().unwrap(),
            ],
            None,
        );
        let mut r = r.clone();
        for v in [&mut m, &mut r] {
            v["capture"]["file"] = Value::Null;
        }
        assert_eq!(m, r, "merged by tcpscope and by mergecap");
        let _ = std::fs::remove_file(merged);
    } else {
        eprintln!("skipping the mergecap comparison: mergecap not installed");
    }
}

#[test]
fn files_one_after_another_carry_their_file_and_unique_ids() {
    let (a, b) = two_captures();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let web = web_and_ssh();
    let web = web.to_str().unwrap();
    let r = ok_json(
        &["report", "--format", "json", "--packets", a, web, b],
        None,
    );
    let conns = r["connections"].as_array().unwrap();
    let got: Vec<(u64, &str, u64)> = conns
        .iter()
        .map(|c| {
            (
                c["id"].as_u64().unwrap(),
                c["file"].as_str().unwrap(),
                c["first_frame"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [(1, a, 1), (2, web, 1), (3, web, 2), (4, b, 1)]);
    // Frames are each file's own.
    assert_eq!(frames(&conns[3]), [1, 2, 3, 4]);
    let cap = &r["capture"];
    assert_eq!(cap["packets"], 4 + 15 + 4);
    assert_eq!(cap["connections"], 4);
    let files: Vec<(&str, u64)> = cap["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["file"].as_str().unwrap(), s["packets"].as_u64().unwrap()))
        .collect();
    assert_eq!(files, [(a, 4), (web, 15), (b, 4)]);

    // NDJSON: the same connections, one a line.
    let out = tcpscope(&["report", "--format", "ndjson", a, web, b], None);
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[3]["file"], b);
    assert_eq!(lines[3]["id"], 4);
    assert_eq!(lines[4]["type"], "summary");

    // Text: a heading per file, each table with its summary; ids go on.
    let t = ok_text(&["report", a, b]);
    let heads: Vec<&str> = t.lines().filter(|l| l.starts_with("== ")).collect();
    assert_eq!(heads, [format!("== {a} =="), format!("== {b} ==")]);
    assert!(t.lines().any(|l| l.trim_start().starts_with("2 ")), "{t}");
}

fn compress(plain: &Path, tool: &str, ext: &str) -> Option<PathBuf> {
    let out = plain.with_extension(format!("pcap.{ext}"));
    let packed = Command::new(tool).arg("-c").arg(plain).output().ok()?;
    if !packed.status.success() {
        return None;
    }
    std::fs::write(&out, packed.stdout).unwrap();
    Some(out)
}

/// The JSON report without the capture's name.
fn nameless(mut v: Value) -> Value {
    v["capture"]["file"] = Value::Null;
    v
}

#[test]
fn compressed_captures_report_as_the_plain_file_on_files_and_stdin() {
    let dir = std::env::temp_dir().join(format!("tcpscope-compressed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["tcp-lossy-client-side.pcap", "http-keepalive.pcap"] {
        let plain = dir.join(name);
        std::fs::copy(common::bundled(name), &plain).unwrap();
        let p = plain.to_str().unwrap();
        let want = nameless(ok_json(
            &["report", "--format", "json", "--packets", p],
            None,
        ));
        for (tool, ext) in [("gzip", "gz"), ("zstd", "zst"), ("xz", "xz")] {
            let Some(packed) = compress(&plain, tool, ext) else {
                eprintln!("skipping .{ext}: {tool} not installed");
                continue;
            };
            // Named as if plain: detection is by magic bytes, not by the name.
            let disguised = dir.join(format!("{ext}-{name}"));
            std::fs::copy(&packed, &disguised).unwrap();
            let got = ok_json(
                &[
                    "report",
                    "--format",
                    "json",
                    "--packets",
                    disguised.to_str().unwrap(),
                ],
                None,
            );
            assert_eq!(nameless(got), want, "{name}.{ext}");
            let bytes = std::fs::read(&packed).unwrap();
            let got = ok_json(
                &["report", "--format", "json", "--packets", "-"],
                Some(&bytes),
            );
            assert_eq!(nameless(got), want, "{name}.{ext} on standard input");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_compressed_pcapng_reports_as_the_plain_one() {
    let dir = std::env::temp_dir().join(format!("tcpscope-ng-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ng = dir.join("keepalive.pcapng");
    let Ok(st) = Command::new("editcap")
        .args(["-F", "pcapng"])
        .arg(common::bundled("http-keepalive.pcap"))
        .arg(&ng)
        .status()
    else {
        eprintln!("skipping: editcap not installed");
        return;
    };
    assert!(st.success());
    let want = nameless(ok_json(
        &["report", "--format", "json", ng.to_str().unwrap()],
        None,
    ));
    let gz = compress(&ng, "gzip", "gz").expect("gzip");
    let got = ok_json(&["report", "--format", "json", gz.to_str().unwrap()], None);
    assert_eq!(nameless(got), want);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_truncated_gz_is_a_warning_and_what_was_read_is_reported() {
    let dir = std::env::temp_dir().join(format!("tcpscope-cutgz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("lossy.pcap");
    std::fs::copy(common::bundled("tcp-lossy-client-side.pcap"), &plain).unwrap();
    let gz = compress(&plain, "gzip", "gz").expect("gzip");
    let bytes = std::fs::read(&gz).unwrap();
    let cut = dir.join("cut.pcap.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let r = ok_json(&["report", "--format", "json", cut.to_str().unwrap()], None);
    let packets = r["capture"]["packets"].as_u64().unwrap();
    assert!(packets > 0 && packets < 936, "{packets}");
    let w = r["capture"]["warnings"].as_array().unwrap();
    assert!(
        w[0].as_str()
            .unwrap()
            .starts_with("gzip decompression stopped after "),
        "{w:?}"
    );
    assert!(w[0].as_str().unwrap().contains("ends early"), "{w:?}");
    // Every packet before the cut is the plain file's.
    let full = ok_json(
        &[
            "report",
            "--format",
            "json",
            "-c",
            &packets.to_string(),
            plain.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(full["capture"]["packets"], packets);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn filter_and_count_apply_to_compressed_and_stdin_input() {
    let f = web_and_ssh();
    let gz = compress(&f, "gzip", "gz").expect("gzip");
    let plain = ok_json(
        &[
            "report",
            "--format",
            "json",
            "--packets",
            "-f",
            "tcp port 80",
            "-c",
            "6",
            f.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(frames(&plain["connections"][0]), [1, 3, 5, 7, 9, 13]);
    let bytes = std::fs::read(&gz).unwrap();
    let piped = ok_json(
        &[
            "report",
            "--format",
            "json",
            "--packets",
            "-f",
            "tcp port 80",
            "-c",
            "6",
            "-",
        ],
        Some(&bytes),
    );
    assert_eq!(nameless(piped), nameless(plain));
}

#[test]
fn a_missing_file_among_several_stops_before_any_output() {
    let (a, b) = two_captures();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let missing = "/nonexistent/tcpscope-none.pcap";
    for merge in [false, true] {
        let mut args = vec!["report", "--format", "json", a, missing, b];
        if merge {
            args.push("--merge");
        }
        let out = tcpscope(&args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("tcpscope: {missing}: no such file; check the path\n")
        );
    }
}
