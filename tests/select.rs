//! Connection selection after analysis (`--conn`, `--host`, `--port`, `--app`, `--state`,
//! `--anomalies`) on report/explain/diagram/export-http, and `report -w`: the selected
//! connections' frames written to a pcap, read back with tcpdump and our own reader.

mod common;

use common::rawpcap;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcpscope-select-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn merged() -> PathBuf {
    let p = tmp("several.pcap");
    if !p.exists() {
        // Tests run in parallel: written under a name of its own, then renamed.
        let part = tmp(&format!("several-{:?}.part", std::thread::current().id()));
        rawpcap::several_connections(&part);
        std::fs::rename(&part, &p).unwrap();
    }
    p
}

fn tcpscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .output()
        .unwrap()
}

/// The NDJSON of `args`: connection lines and the summary line.
fn ndjson(file: &Path, extra: &[&str]) -> (Vec<Value>, Value) {
    let mut args = vec!["report", "--format", "ndjson", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = common::pcapgen::run(&args);
    let mut lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = lines.pop().unwrap();
    assert_eq!(summary["type"], "summary");
    (lines, summary)
}

fn ids(v: &[Value]) -> Vec<u64> {
    v.iter().map(|c| c["id"].as_u64().unwrap()).collect()
}

fn anomalous(c: &Value) -> bool {
    let a = &c["analysis"];
    [
        "retransmission",
        "out_of_order",
        "duplicate_ack",
        "zero_window",
        "lost_segment",
        "ack_unseen",
        "overlap_conflict",
        "impossible_flags",
        "rst_out_of_window",
        "rst_in_window",
    ]
    .iter()
    .any(|k| a[*k].as_u64().unwrap() > 0)
}

#[test]
fn each_option_keeps_what_the_full_json_says_and_the_summary_counts_the_capture() {
    let f = merged();
    let (all, whole) = ndjson(&f, &[]);
    assert_eq!(all.len(), 7, "the merged capture has 7 connections");
    assert_eq!(whole["schema"], 1);
    assert!(whole.get("selected").is_none());
    let pick = |pred: &dyn Fn(&Value) -> bool| -> Vec<u64> {
        ids(&all.iter().filter(|c| pred(c)).cloned().collect::<Vec<_>>())
    };
    let ends = |c: &Value| {
        [
            c["client"].as_str().unwrap().to_string(),
            c["server"].as_str().unwrap().to_string(),
        ]
    };
    let cases: Vec<(Vec<&str>, Vec<u64>)> = vec![
        (vec!["--conn", "3,5"], vec![3, 5]),
        (
            vec!["--host", "fd00:77:2::2"],
            pick(&|c| ends(c).iter().any(|e| e.starts_with("[fd00:77:2::2]"))),
        ),
        (
            vec!["--host", "127.0.0.1"],
            pick(&|c| ends(c).iter().any(|e| e.starts_with("127.0.0.1:"))),
        ),
        (
            vec!["--port", "80"],
            pick(&|c| ends(c).iter().any(|e| e.ends_with(":80"))),
        ),
        (
            vec!["--port", "81,8082"],
            pick(&|c| {
                ends(c)
                    .iter()
                    .any(|e| e.ends_with(":81") || e.ends_with(":8082"))
            }),
        ),
        (vec!["--app", "unknown"], pick(&|c| c["app"] == "unknown")),
        (vec!["--state", "SF"], pick(&|c| c["conn_state"] == "SF")),
        (
            vec!["--state", "rej,RSTR"],
            pick(&|c| c["conn_state"] == "REJ" || c["conn_state"] == "RSTR"),
        ),
        (vec!["--anomalies"], pick(&|c| anomalous(c))),
        (
            vec!["--anomalies", "--port", "80", "--app", "http"],
            pick(&|c| {
                anomalous(c) && c["app"] == "http" && ends(c).iter().any(|e| e.ends_with(":80"))
            }),
        ),
    ];
    for (args, want) in cases {
        assert!(
            !want.is_empty() || args[0] == "--anomalies",
            "{args:?} picks something"
        );
        let (got, summary) = ndjson(&f, &args);
        assert_eq!(ids(&got), want, "{args:?}");
        for c in &got {
            let full = all.iter().find(|a| a["id"] == c["id"]).unwrap();
            assert_eq!(
                c, full,
                "{args:?}: a selected connection is the same record"
            );
        }
        assert_eq!(summary["selected"], want.len() as u64, "{args:?}");
        assert_eq!(
            summary["capture"], whole["capture"],
            "{args:?}: totals of the capture"
        );
    }
    // The sets above are not all the same (the options do filter).
    assert_ne!(pick(&|c| c["conn_state"] == "SF").len(), all.len());
}

#[test]
fn json_and_text_say_what_was_selected() {
    let f = merged();
    let out = common::pcapgen::run(&[
        "report",
        "--format",
        "json",
        "--port",
        "81",
        f.to_str().unwrap(),
    ]);
    let v = common::json(&out);
    assert_eq!(v["schema"], 1);
    assert_eq!(v["selected"], 1);
    assert_eq!(v["capture"]["connections"], 7);
    assert_eq!(v["connections"][0]["server"], "10.77.2.2:81");
    let text = String::from_utf8(common::pcapgen::run(&[
        "report",
        "--state",
        "SF",
        f.to_str().unwrap(),
    ]))
    .unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("selected:"))
        .expect("selected line");
    assert_eq!(line, "selected: 5 of 7 connections (--state SF)");
}

#[test]
fn a_wrong_id_or_value_is_a_clear_error_before_any_output() {
    let one = common::bundled("http-get.pcap");
    let o = tcpscope(&["report", "--conn", "99", one.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "nothing written before the error");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("connections are numbered 1 to 1"), "{e}");
    for cmd in ["explain", "diagram", "export-http"] {
        let mut args = vec![cmd, one.to_str().unwrap(), "--conn", "99"];
        let dir = tmp("export-none");
        if cmd == "export-http" {
            args.extend(["-o", dir.to_str().unwrap()]);
        }
        let o = tcpscope(&args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {e}");
        assert!(e.contains("connections are numbered 1 to 1"), "{cmd}: {e}");
    }
    let o = tcpscope(&["report", "--app", "gopher", one.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--app gopher: expected one of http, tls"));
    let o = tcpscope(&["report", "--state", "XX", one.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--state XX: expected a Zeek conn_state"));
    let o = tcpscope(&["report", "--host", "not-an-ip", one.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "clap refuses a bad address");
}

#[test]
fn explain_and_diagram_take_the_selection() {
    let f = merged();
    let f = f.to_str().unwrap();
    let o = common::pcapgen::run(&["explain", f, "--state", "REJ"]);
    let text = String::from_utf8(o).unwrap();
    assert!(
        text.contains("10.77.2.2:81"),
        "the refused connection: {text}"
    );
    assert!(!text.contains("10.77.2.2:8082"), "only it");
    // diagram: `--conn N` as before, and the first connection a selection keeps.
    let by_id = common::pcapgen::run(&["diagram", f, "--conn", "5", "--format", "ascii"]);
    let by_host =
        common::pcapgen::run(&["diagram", f, "--host", "fd00:77:1::2", "--format", "ascii"]);
    assert_eq!(by_id, by_host, "connection 5 is the IPv6 one");
    let first = common::pcapgen::run(&["diagram", f, "--format", "ascii"]);
    let one = common::pcapgen::run(&["diagram", f, "--conn", "1", "--format", "ascii"]);
    assert_eq!(first, one);
}

#[test]
fn export_http_exports_only_the_selected_connections() {
    let f = merged();
    let all = tmp("export-all");
    let sel = tmp("export-sel");
    let _ = std::fs::remove_dir_all(&all);
    let _ = std::fs::remove_dir_all(&sel);
    let count = |out: Vec<u8>| -> u64 {
        let s = String::from_utf8(out).unwrap();
        s.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let n_all = count(common::pcapgen::run(&[
        "export-http",
        f.to_str().unwrap(),
        "-o",
        all.to_str().unwrap(),
    ]));
    let n_sel = count(common::pcapgen::run(&[
        "export-http",
        f.to_str().unwrap(),
        "-o",
        sel.to_str().unwrap(),
        "--conn",
        "1",
    ]));
    assert_eq!(n_sel, 3, "connection 1 is the keep-alive one: 3 bodies");
    assert!(n_all > n_sel);
}

/// The frame numbers of the connections `ids`, from the `--packets` JSON.
fn frames_of(file: &Path, ids: &[u64]) -> Vec<u64> {
    let v = common::pcapgen::report(file);
    let mut f: Vec<u64> = v["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| ids.contains(&c["id"].as_u64().unwrap()))
        .flat_map(|c| c["packet_list"].as_array().unwrap().clone())
        .map(|p| p["frame"].as_u64().unwrap())
        .collect();
    f.sort();
    f
}

#[test]
fn write_copies_exactly_the_selected_connections_frames() {
    let f = merged();
    let (_, src) = rawpcap::read(&f);
    for ids in [vec![3u64], vec![2, 6], vec![5]] {
        let list: Vec<String> = ids.iter().map(u64::to_string).collect();
        let out = tmp(&format!("conn-{}.pcap", list.join("-")));
        let o = tcpscope(&[
            "report",
            "--format",
            "json",
            "--conn",
            &list.join(","),
            "-w",
            out.to_str().unwrap(),
            f.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let want = frames_of(&f, &ids);
        let (lt, got) = rawpcap::read(&out);
        assert_eq!(lt, 1, "Ethernet kept");
        assert_eq!(got.len(), want.len(), "{ids:?}: frame count");
        for (g, n) in got.iter().zip(&want) {
            assert_eq!(
                g,
                &src[(*n - 1) as usize],
                "{ids:?}: frame {n} byte for byte"
            );
        }
        let report = common::json(&o.stdout);
        let pk: u64 = report["connections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                c["packets"]["client"].as_u64().unwrap() + c["packets"]["server"].as_u64().unwrap()
            })
            .sum();
        assert_eq!(pk, want.len() as u64);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(&format!("wrote {} frames", want.len())), "{e}");
        // tcpdump reads it back: one line per frame.
        match Command::new("tcpdump")
            .args(["-nn", "-r"])
            .arg(&out)
            .output()
        {
            Ok(t) => {
                assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
                assert_eq!(
                    String::from_utf8_lossy(&t.stdout).lines().count(),
                    want.len()
                );
            }
            Err(e) => eprintln!("skipping the tcpdump read-back: tcpdump not runnable ({e})"),
        }
        // And it is a capture tcpscope reads as the same connections.
        let (back, _) = ndjson(&out, &[]);
        assert_eq!(back.len(), ids.len());
    }
}

#[test]
fn write_refuses_standard_input_and_the_capture_itself() {
    let f = tmp("self.pcap");
    std::fs::copy(common::bundled("http-get.pcap"), &f).unwrap();
    let before = std::fs::read(&f).unwrap();
    let o = tcpscope(&["report", "-w", f.to_str().unwrap(), f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is the capture being read"));
    assert_eq!(
        std::fs::read(&f).unwrap(),
        before,
        "the capture is untouched"
    );
    let o = tcpscope(&["report", "-w", "/tmp/x.pcap", "-"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not standard input"));
}
