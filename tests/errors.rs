//! Error wording (issue 17, items 12 and 13): what went wrong, with which file, and what
//! to do, each message checked whole; a mistyped command named as such (exit 2), not
//! taken for a missing capture file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn tcpscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
}

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// A fresh folder of the test's own.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcpscope-errors-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    tcpscope()
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = tcpscope()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// Exit status `code`, nothing on stdout, and exactly `line` (plus a newline) on stderr.
fn assert_says(out: &Output, code: i32, line: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err, format!("{line}\n"));
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_mistyped_command_is_named_with_a_suggestion_and_exit_2() {
    let d = scratch("typo");
    let said = "tcpscope: unknown command 'reprot' (did you mean 'report'?); `tcpscope --help` lists the commands";
    assert_says(&run_in(&d, &["reprot", "x.pcap"]), 2, said);
    assert_says(&run_in(&d, &["reprot"]), 2, said);
    assert_says(
        &run_in(&d, &["explian", "--conn", "1", "x.pcap"]),
        2,
        "tcpscope: unknown command 'explian' (did you mean 'explain'?); `tcpscope --help` lists the commands",
    );
    // Neither a command nor a file, before another word: an unknown command.
    assert_says(
        &run_in(&d, &["zzz", "x.pcap"]),
        2,
        "tcpscope: unknown command 'zzz', and no file of that name; the commands are report, export-http, open, explain, diagram, quiz, live, demo, interfaces, completions, man, help",
    );
}

#[test]
fn a_missing_file_in_the_ui_is_as_clear_as_in_report() {
    let d = scratch("missing");
    for args in [
        &["nosuchfile.pcap"][..],
        &["open", "nosuchfile.pcap"],
        &["report", "nosuchfile.pcap"],
        &["explain", "nosuchfile.pcap"],
        &["quiz", "nosuchfile.pcap"],
    ] {
        assert_says(
            &run_in(&d, args),
            1,
            "tcpscope: nosuchfile.pcap: no such file; check the path",
        );
    }
    // Not close to a command and alone: a file, reported missing (not an unknown command).
    assert_says(
        &run_in(&d, &["zzz"]),
        1,
        "tcpscope: zzz: no such file; check the path",
    );
    // A path is always a file, even one named like a mistyped command.
    assert_says(
        &run_in(&d, &["./reprot"]),
        1,
        "tcpscope: ./reprot: no such file; check the path",
    );
}

#[test]
fn a_command_name_is_a_file_only_when_alone_and_such_a_file_exists() {
    let d = scratch("cmdfile");
    // No file named `report`: the command, which wants its FILE.
    let out = run_in(&d, &["report"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<FILE"));
    // A file named `report` (empty, so the message proves it was opened as a capture).
    std::fs::write(d.join("report"), b"").unwrap();
    let empty = "tcpscope: report: empty file (0 bytes): not a capture; give a pcap or pcapng file";
    assert_says(&run_in(&d, &["report"]), 1, empty);
    assert_says(&run_in(&d, &["--", "report"]), 1, empty);
    // With more arguments, `report` is the command.
    assert_says(
        &run_in(&d, &["report", "report"]),
        1,
        "tcpscope: report: empty file (0 bytes): not a capture; give a pcap or pcapng file",
    );
    let out = run_in(
        &d,
        &[
            "report",
            "--format",
            "json",
            &bundled("http-get.pcap").to_string_lossy(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A command that needs no file stays the command beside a file of its name.
    std::fs::write(d.join("demo"), b"").unwrap();
    let out = run_in(&d, &["demo", "--list"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn an_empty_file_or_input_says_empty_not_truncated() {
    let d = scratch("empty");
    std::fs::write(d.join("empty.pcap"), b"").unwrap();
    let said =
        "tcpscope: empty.pcap: empty file (0 bytes): not a capture; give a pcap or pcapng file";
    assert_says(&run_in(&d, &["report", "empty.pcap"]), 1, said);
    assert_says(&run_in(&d, &["empty.pcap"]), 1, said);
    assert_says(&run_in(&d, &["explain", "empty.pcap"]), 1, said);
    assert_says(
        &with_stdin(&["report", "-"], b""),
        1,
        "tcpscope: standard input: empty (0 bytes): not a capture; pipe one in, e.g. `tcpdump -w - | tcpscope report -`",
    );
}

#[test]
fn standard_input_is_named_standard_input() {
    let out = with_stdin(&["report", "-"], b"this is text, not a capture at all\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.starts_with("tcpscope: standard input: not a pcap or pcapng capture ("),
        "{err}"
    );
    assert!(
        !err.contains(" -:") && !err.starts_with("tcpscope: -"),
        "{err}"
    );
}

#[test]
fn a_compressed_file_not_read_directly_says_how_to_decompress_it() {
    let d = scratch("bz2");
    // bzip2's magic ("BZh" and the block size digit); the rest does not matter.
    std::fs::write(d.join("x.pcap.bz2"), b"BZh91AY&SY\x00\x01\x02\x03").unwrap();
    assert_says(
        &run_in(&d, &["report", "x.pcap.bz2"]),
        1,
        "tcpscope: x.pcap.bz2: bzip2-compressed: decompress it first (bunzip2)",
    );
    // The UI says it before taking the terminal.
    assert_says(
        &run_in(&d, &["x.pcap.bz2"]),
        1,
        "tcpscope: x.pcap.bz2: bzip2-compressed: decompress it first (bunzip2)",
    );
    std::fs::write(d.join("x.pcap.lz4"), b"\x04\x22\x4d\x18\x64\x40\xa7").unwrap();
    assert_says(
        &run_in(&d, &["report", "x.pcap.lz4"]),
        1,
        "tcpscope: x.pcap.lz4: lz4-compressed: decompress it first (unlz4)",
    );
}

#[test]
fn export_http_into_a_file_says_not_a_folder_before_reading() {
    let d = scratch("notdir");
    std::fs::write(d.join("bodies"), b"keep me").unwrap();
    let cap = bundled("http-get.pcap");
    let out = run_in(&d, &["export-http", &cap.to_string_lossy(), "-o", "bodies"]);
    assert_says(
        &out,
        1,
        "tcpscope: bodies: not a folder; give -o a folder to write the bodies into (it is created if missing)",
    );
    assert_eq!(std::fs::read(d.join("bodies")).unwrap(), b"keep me");
    // Checked before the capture is read: a missing capture is not what it reports.
    let out = run_in(&d, &["export-http", "nosuch.pcap", "-o", "bodies"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("bodies: not a folder"));
}
