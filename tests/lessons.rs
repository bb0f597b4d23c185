//! The lessons in docs/lessons/ stay true: every tcpscope command they quote (in code
//! blocks and inline code) runs and succeeds, and every number they mark with a check
//! comment equals what the JSON says. A lesson whose number is wrong fails the build.
//!
//! Check comments: `<!-- check: ARGS :: EXPR == VALUE -->`, where ARGS are tcpscope's
//! arguments (JSON output), EXPR a path (`.a.b[2]`, `[?frame=44]`, `[?seq=N]`, `[?syn]`,
//! `[?resent]` filter a list), optionally summed with ` + ` and piped to `| distinct`,
//! `| length`, and VALUE a JSON literal.
//!
//! Commands that open the terminal UI are run in their headless form: `tcpscope FILE` and
//! `open FILE` as `report FILE`, `quiz` with `--text` (answers from a `printf` pipe, else
//! none), `demo` as `--replay --format json` (no root needed, the bundled recording).

mod common;

use common::pcapgen::{Cap, report};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn lessons() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(root().join("docs/lessons"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    v.sort();
    assert_eq!(v.len(), 4, "the four lessons");
    v
}

/// Shell-like words: whitespace-separated, single or double quotes group.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        out.push(cur);
    }
    out
}

/// A quoted command: its arguments and what it reads on standard input.
#[derive(Debug)]
struct Cmd {
    line: String,
    args: Vec<String>,
    stdin: String,
}

fn parse_cmd(line: &str) -> Option<Cmd> {
    let line = line.split("  #").next()?.trim();
    let (stdin, rest) = match line.strip_prefix("printf ") {
        Some(r) => {
            let (p, cmd) = r.split_once(" | ")?;
            (words(p).concat().replace("\\n", "\n"), cmd.trim())
        }
        None => (String::new(), line),
    };
    let rest = rest.strip_prefix("sudo ").unwrap_or(rest);
    let rest = rest.strip_prefix("tcpscope ")?;
    // What the shell does after the command (pipes to jq/less/tail, redirections) is
    // not tcpscope's.
    let rest = rest.split(" | ").next()?.split(" > ").next()?;
    Some(Cmd {
        line: line.to_string(),
        args: words(rest),
        stdin,
    })
}

/// Every command quoted: lines of code blocks (joined across `\` continuations) and
/// inline code spans that begin with `tcpscope`, `sudo tcpscope` or `printf … | tcpscope`.
fn commands(md: &str) -> Vec<Cmd> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for l in md.lines() {
        if l.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            let l = l.trim();
            if let Some(head) = l.strip_suffix('\\') {
                pending.push_str(head);
                pending.push(' ');
                continue;
            }
            let full = std::mem::take(&mut pending) + l;
            out.extend(parse_cmd(&full));
        } else {
            for (i, span) in l.split('`').enumerate() {
                // Prose names commands in passing (`tcpscope explain` says…): only a
                // span with a capture or a demo is a command to run.
                if i % 2 == 1 && (span.contains("captures/") || span.contains("tcpscope demo")) {
                    out.extend(parse_cmd(span));
                }
            }
        }
    }
    out
}

/// The headless form of a quoted command.
fn headless(args: &[String]) -> Vec<String> {
    let mut a = args.to_vec();
    match a.first().map(String::as_str) {
        Some("open") => a[0] = "report".into(),
        Some("quiz") if !a.iter().any(|x| x == "--text") => a.push("--text".into()),
        Some("demo") => {
            if !a.iter().any(|x| x == "--replay" || x == "--list") {
                a.push("--replay".into());
            }
            if !a.iter().any(|x| x == "--format" || x == "--list") {
                a.extend(["--format".into(), "json".into()]);
            }
        }
        Some(f) if f.ends_with(".pcap") => a.insert(0, "report".into()),
        _ => {}
    }
    a
}

fn run(args: &[String], stdin: &str) -> (bool, Vec<u8>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_quoted_command_runs() {
    let mut n = 0;
    for (name, md) in lessons() {
        for c in commands(&md) {
            let args = headless(&c.args);
            let (ok, _, err) = run(&args, &c.stdin);
            assert!(ok, "{name}: `{}` (run as {args:?}) failed:\n{err}", c.line);
            assert!(!err.contains("panicked"), "{name}: {}: {err}", c.line);
            n += 1;
        }
    }
    // Each lesson quotes several commands; a parser that finds none tests nothing.
    assert!(n >= 30, "only {n} commands found");
}

/// One step of a path applied to a list of values (a filter may keep several).
fn step(vals: Vec<Value>, seg: &str) -> Vec<Value> {
    let flags = |p: &Value| -> Vec<String> {
        p["analysis"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["flag"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let filter = |p: &Value, f: &str| -> bool {
        match f.split_once('=') {
            Some((k, v)) => serde_json::from_str::<Value>(v).is_ok_and(|w| p[k] == w),
            None if f == "syn" => p["flags"].as_str().is_some_and(|s| s.contains("SYN")),
            None if f == "resent" => flags(p).iter().any(|x| {
                matches!(
                    x.as_str(),
                    "retransmission" | "fast_retransmission" | "out_of_order"
                )
            }),
            None => panic!("unknown filter {f}"),
        }
    };
    let mut out = Vec::new();
    for v in vals {
        if let Some(f) = seg.strip_prefix("[?").and_then(|s| s.strip_suffix(']')) {
            let kept: Vec<Value> = v
                .as_array()
                .unwrap_or_else(|| panic!("{seg} on a non-list"))
                .iter()
                .filter(|p| filter(p, f))
                .cloned()
                .collect();
            out.push(Value::Array(kept));
        } else if let Some(i) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            out.push(v[i.parse::<usize>().unwrap()].clone());
        } else if let Value::Array(a) = &v {
            // A key on a list: that key of each element (as jq's `.[].key`).
            out.push(Value::Array(a.iter().map(|x| x[seg].clone()).collect()));
        } else {
            out.push(v[seg].clone());
        }
    }
    out
}

/// Split `.a.b[2][?x=1].c` into `a`, `b`, `[2]`, `[?x=1]`, `c`.
fn segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '.' if depth == 0 => out.extend((!cur.is_empty()).then(|| std::mem::take(&mut cur))),
            '[' => {
                out.extend((!cur.is_empty()).then(|| std::mem::take(&mut cur)));
                depth += 1;
                cur.push(c);
            }
            ']' => {
                cur.push(c);
                depth -= 1;
                if depth == 0 {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    out.extend((!cur.is_empty()).then_some(cur));
    out
}

fn eval(doc: &Value, expr: &str) -> Value {
    let mut parts = expr.split(" | ");
    let sum: Vec<Value> = parts
        .next()
        .unwrap()
        .split(" + ")
        .map(|p| {
            segments(p.trim())
                .iter()
                .fold(vec![doc.clone()], |v, s| step(v, s))
                .remove(0)
        })
        .collect();
    let mut v = if sum.len() == 1 {
        sum[0].clone()
    } else {
        Value::from(sum.iter().map(|x| x.as_u64().unwrap()).sum::<u64>())
    };
    for op in parts {
        v = match op.trim() {
            "length" => Value::from(v.as_array().map_or(0, Vec::len)),
            "distinct" => {
                let mut seen = Vec::new();
                for x in v.as_array().cloned().unwrap_or_default() {
                    if !seen.contains(&x) {
                        seen.push(x);
                    }
                }
                Value::Array(seen)
            }
            other => panic!("unknown operation {other}"),
        };
    }
    v
}

#[test]
fn every_checked_number_is_what_the_json_says() {
    let mut cache: HashMap<String, Value> = HashMap::new();
    let mut n = 0;
    for (name, md) in lessons() {
        for c in md.split("<!-- check: ").skip(1) {
            let c = c.split(" -->").next().unwrap();
            let (args, test) = c.split_once(" :: ").expect("ARGS :: EXPR == VALUE");
            let (expr, want) = test.split_once(" == ").expect("EXPR == VALUE");
            let doc = cache.entry(args.to_string()).or_insert_with(|| {
                let (ok, out, err) = run(&words(args), "");
                assert!(ok, "{name}: tcpscope {args}: {err}");
                serde_json::from_slice(&out).unwrap()
            });
            let want: Value = serde_json::from_str(want).unwrap();
            let got = eval(doc, expr);
            let same = match (got.as_f64(), want.as_f64()) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                _ => got == want,
            };
            assert!(
                same,
                "{name}: `{args}` {expr} is {got}, the lesson says {want}"
            );
            n += 1;
        }
    }
    assert!(n >= 40, "only {n} checks found");
}

#[test]
fn the_checker_catches_a_wrong_number() {
    let doc: Value = serde_json::json!({"c": [{"frame": 5, "seq": 1, "flags": "SYN"},
        {"frame": 6, "seq": 1, "analysis": [{"flag": "retransmission"}]}]});
    assert_eq!(eval(&doc, ".c[?frame=6][0].seq"), Value::from(1));
    assert_eq!(eval(&doc, ".c[?syn].frame | length"), Value::from(1));
    assert_eq!(eval(&doc, ".c.seq | distinct | length"), Value::from(1));
    assert_eq!(eval(&doc, ".c[?resent].frame"), serde_json::json!([6]));
    assert_eq!(eval(&doc, ".c[0].frame + .c[1].frame"), Value::from(11));
    assert_ne!(eval(&doc, ".c[0].frame"), Value::from(6));
    let c = parse_cmd("printf 's\\nra\\n' | tcpscope quiz x.pcap --text").unwrap();
    assert_eq!(c.stdin, "s\nra\n");
    assert_eq!(c.args, vec!["quiz", "x.pcap", "--text"]);
    let c = parse_cmd("sudo tcpscope demo --scenario reset  # aborts").unwrap();
    assert_eq!(
        headless(&c.args).join(" "),
        "demo --scenario reset --replay --format json"
    );
}

/// §7: a response with neither Content-Length nor chunking ends at the server's FIN, so
/// it is complete there (frame 9 here), not at its last data segment (frame 7), and its
/// total time runs to the FIN.
#[test]
fn close_delimited_response_completes_at_the_fin() {
    const C: bool = true;
    const S: bool = false;
    let mut c = Cap::new();
    let req = b"GET /x HTTP/1.0\r\n\r\n";
    let head = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n";
    let (r, h) = (req.len() as u32, head.len() as u32);
    c.seg(0, C, "S", 100, 0, &[]); // 1
    c.seg(100, S, "SA", 500, 101, &[]); // 2
    c.seg(200, C, "A", 101, 501, &[]); // 3
    c.seg(300, C, "PA", 101, 501, req); // 4
    c.seg(400, S, "PA", 501, 101 + r, head); // 5
    c.seg(500, S, "PA", 501 + h, 101 + r, b"hello "); // 6
    c.seg(600, S, "PA", 507 + h, 101 + r, b"world\n"); // 7
    c.seg(700, C, "A", 101 + r, 513 + h, &[]); // 8
    c.seg(50_600, S, "FA", 513 + h, 101 + r, &[]); // 9: the close, 50 ms later
    c.seg(50_700, C, "FA", 101 + r, 514 + h, &[]); // 10
    c.seg(50_800, S, "A", 514 + h, 102 + r, &[]); // 11
    let d = report(&c.write("close-delimited.pcap"));
    let x = &d["connections"][0]["http"][0];
    assert_eq!(x["complete"], true, "{x}");
    assert_eq!(x["response"]["frame"], 5, "{x}");
    assert_eq!(x["response"]["end_frame"], 9, "{x}");
    assert_eq!(x["response"]["body_bytes_wire"], 12, "{x}");
    let total = x["total_ms"].as_f64().unwrap();
    assert!((total - 50.3).abs() < 1e-6, "{total}");
}
