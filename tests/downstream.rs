//! A real engine downstream: the NDJSON of several captures and their Zeek logs loaded
//! into DuckDB (python3 + the `duckdb` package) by tests/duckdb_check.py, whose query
//! answers (connections per conn_state, HTTP statuses, p95 TTFB, the uid join) are
//! checked against the same numbers computed in plain Python. Without duckdb the test
//! says it skipped, and fails under CI (`CI` or `TCPSCOPE_CI` set: .ci/run installs it).

mod common;

use std::process::Command;

const CAPTURES: &[&str] = &[
    "http-keepalive.pcap",
    "tcp-refused.pcap",
    "http-pipelined.pcap",
    "http-lossy-download.pcap",
    "h2-parallel.pcap",
    "demo-refused.pcap",
    "http-head-304.pcap",
    "tcp-rst-abort.pcap",
];

fn in_ci() -> bool {
    ["CI", "TCPSCOPE_CI"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty() && x != "0"))
}

#[test]
fn duckdb_answers_match_plain_python_on_ndjson_and_zeek_logs() {
    let root = std::env::temp_dir().join(format!("tcpscope-downstream-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let nd = root.join("ndjson");
    std::fs::create_dir_all(&nd).unwrap();
    let mut zeek_dirs = Vec::new();
    for name in CAPTURES {
        let f = common::bundled(name);
        let out = common::pcapgen::run(&["report", "--format", "ndjson", f.to_str().unwrap()]);
        std::fs::write(nd.join(format!("{name}.ndjson")), out).unwrap();
        let z = root.join(format!("zeek-{name}"));
        common::pcapgen::run(&[
            "report",
            "--format",
            "zeek",
            "--out",
            z.to_str().unwrap(),
            f.to_str().unwrap(),
        ]);
        zeek_dirs.push(z);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/duckdb_check.py");
    let out = match Command::new("python3")
        .arg(script)
        .arg(&nd)
        .args(&zeek_dirs)
        .output()
    {
        Ok(o) => o,
        Err(e) if !in_ci() => {
            println!("skipping duckdb_answers_match...: python3 cannot be run ({e})");
            eprintln!("skipping duckdb_answers_match...: python3 cannot be run ({e})");
            return;
        }
        Err(e) => panic!("python3 cannot be run under CI: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        assert!(
            !in_ci(),
            "CI: the duckdb Python package is missing (.ci/run installs it): {stderr}"
        );
        println!("skipping duckdb_answers_match...: {stderr}");
        eprintln!("skipping duckdb_answers_match...: {stderr}");
        return;
    }
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("all DuckDB answers match"), "{stdout}");
    // The checks ran on something: each kind of answer was compared.
    for what in [
        "connections per conn_state",
        "p95 TTFB",
        "http.log joins conn.log",
    ] {
        assert!(stdout.contains(&format!("ok  {what}")), "{what}: {stdout}");
    }
    let _ = std::fs::remove_dir_all(&root);
}
