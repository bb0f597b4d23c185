//! `tcpscope completions SHELL` and `tcpscope man` (issue 17, item 11).

use std::io::Write;
use std::process::{Command, Stdio};

fn tcpscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .output()
        .unwrap()
}

const COMMANDS: [&str; 11] = [
    "report",
    "export-http",
    "open",
    "explain",
    "diagram",
    "quiz",
    "live",
    "demo",
    "interfaces",
    "completions",
    "man",
];

#[test]
fn every_shell_gets_a_script_naming_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = tcpscope(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(out.stderr.is_empty(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.len() > 1000, "{shell}: {} bytes", text.len());
        for c in COMMANDS {
            assert!(text.contains(c), "{shell} script does not name {c}");
        }
        // Options of a command too, e.g. report's --format and its values.
        assert!(
            text.contains("format") && text.contains("ndjson"),
            "{shell}"
        );
    }
    let out = tcpscope(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_bash_script_is_valid_bash_and_completes_commands() {
    let out = tcpscope(&["completions", "bash"]);
    let script = String::from_utf8(out.stdout).unwrap();
    // Source it and ask it to complete `tcpscope rep`.
    let probe = format!(
        "{script}\nCOMP_WORDS=(tcpscope rep); COMP_CWORD=1; COMP_LINE='tcpscope rep'; COMP_POINT=12\n_tcpscope tcpscope rep tcpscope\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n"
    );
    let mut child = Command::new("bash")
        .arg("--norc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(probe.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let got = String::from_utf8_lossy(&out.stdout);
    assert!(
        got.lines().any(|l| l == "report"),
        "completions of `rep`: {got:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn man_prints_a_page_that_man_and_groff_accept() {
    let out = tcpscope(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    let th = page
        .lines()
        .find(|l| l.starts_with(".TH "))
        .expect("a .TH line");
    assert!(th.starts_with(".TH tcpscope 1 "), "{th}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "no {section}");
    }
    for c in COMMANDS {
        let heading = format!(".SH \"TCPSCOPE {}\"", c.to_uppercase());
        assert!(page.contains(&heading), "no section {heading}");
    }
    // groff: no warnings at all (-ww), output produced.
    let groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    if let Ok(mut g) = groff {
        g.stdin.take().unwrap().write_all(page.as_bytes()).unwrap();
        let out = g.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warnings");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("tcpscope - TCP and HTTP at the packet level"),
            "{text}"
        );
        assert!(
            text.contains("TCPSCOPE REPORT") && text.contains("--format"),
            "{text}"
        );
        // The commands are sections of this page, not pages that do not exist.
        assert!(!text.contains("tcpscope-report(1)"), "{text}");
    } else {
        eprintln!("groff is not installed: checked the .TH header only");
    }
}
