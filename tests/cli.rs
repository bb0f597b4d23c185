//! The real binary on bad input: one clear line naming the file, documented exit codes,
//! and a quiet end when the output pipe closes.

use std::io::Write;
use std::process::{Command, Stdio};

fn tcpscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
}

fn bundled(name: &str) -> String {
    format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn missing_file_is_one_line_and_exit_1() {
    let out = tcpscope()
        .args(["report", "/nonexistent/x.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("/nonexistent/x.pcap") && err.contains("no such file"),
        "{err}"
    );
}

#[test]
fn not_a_capture_says_what_to_do() {
    let dir = std::env::temp_dir().join(format!("tcpscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("notes.txt");
    std::fs::write(&f, b"this is not a packet capture at all, just text\n").unwrap();
    let out = tcpscope().arg("report").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("notes.txt") && err.contains("not a pcap"),
        "{err}"
    );
    let out = tcpscope().arg("report").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_exit_2() {
    let out = tcpscope()
        .args(["report", "--format", "xml", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = tcpscope().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Exit status"));
}

#[test]
fn standard_input_and_formats() {
    let bytes = std::fs::read(bundled("http-keepalive.pcap")).unwrap();
    let mut child = tcpscope()
        .args(["report", "--format", "ndjson", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["type"], "connection");
    assert_eq!(lines[0]["http"].as_array().unwrap().len(), 3);
    assert_eq!(lines[1]["type"], "summary");
    assert_eq!(lines[1]["capture"]["packets"], 21);
    // One JSON document with nine-decimal timestamps.
    let out = tcpscope()
        .args(["report", "--format", "json", &bundled("http-get.pcap")])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["connections"][0]["conn_state"], "SF");
    let ts = text.split("\"start_ts\": ").nth(1).unwrap();
    let num: &str = ts.split([',', '\n']).next().unwrap();
    assert_eq!(num.split('.').nth(1).unwrap().len(), 9, "{num}");
}

#[test]
fn closed_pipe_is_success() {
    let mut child = tcpscope()
        .args([
            "report",
            "--format",
            "ndjson",
            "--packets",
            &bundled("tcp-lossy-server-side.pcap"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then close our end.
    let mut so = child.stdout.take().unwrap();
    let mut b = [0u8; 1];
    std::io::Read::read_exact(&mut so, &mut b).unwrap();
    drop(so);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// Runs tcpscope with standard output a pipe nobody reads (its reader is closed before the
/// program starts), as `tcpscope ... | head` ends up.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    tcpscope()
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn every_command_that_prints_takes_a_closed_pipe_as_success() {
    let get = bundled("http-get.pcap");
    let runs: [&[&str]; 7] = [
        &[],
        &["--help"],
        &["report", "--format", "json", &get],
        &["demo", "--replay", "--format", "ndjson"],
        &["demo", "--list"],
        &["explain", &get],
        &["diagram", "--format", "ascii", &get],
    ];
    for args in runs {
        let out = with_closed_stdout(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn bad_option_values_are_one_line_naming_the_option() {
    let get = bundled("http-get.pcap");
    for (args, says) in [
        (
            &["live", "--duration=-1", "--format", "json"][..],
            "--duration -1",
        ),
        (
            &["quiz", "--text", "--ask", "flags,colour", &get][..],
            "--ask colour",
        ),
    ] {
        let out = tcpscope().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("tcpscope: ") && err.contains(says), "{err}");
    }
}
