//! `report --format zeek --out DIR`: conn.log and http.log parsed back, every field of
//! every row checked against the JSON report of the same capture (bundled captures, a
//! merge of several with a refused and a keep-alive connection, the shared ones).

mod common;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const CONN: &str = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents";
const CONN_TYPES: &str = "time string addr port addr port enum string interval count count string bool bool count string count count count count set[string]";
const HTTP: &str = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p trans_depth method host uri referrer version user_agent origin request_body_len response_body_len status_code status_msg info_code info_msg tags username password proxied orig_fuids orig_filenames orig_mime_types resp_fuids resp_filenames resp_mime_types";
const HTTP_TYPES: &str = "time string addr port addr port count string string string string string string string count count count string count string set[enum] string string set[string] vector[string] vector[string] vector[string] vector[string] vector[string] vector[string]";

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcpscope-zeek-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

struct Log {
    headers: BTreeMap<String, String>,
    rows: Vec<BTreeMap<String, String>>,
}

fn parse(path: &Path, fields: &str, types: &str) -> Log {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("#separator \\x09"), "{}", path.display());
    let mut headers = BTreeMap::new();
    let mut rows = Vec::new();
    let names: Vec<&str> = fields.split(' ').collect();
    for l in lines {
        if let Some(h) = l.strip_prefix('#') {
            let (k, v) = h.split_once('\t').unwrap();
            headers.insert(k.to_string(), v.to_string());
            continue;
        }
        let cells: Vec<&str> = l.split('\t').collect();
        assert_eq!(cells.len(), names.len(), "{}: {l}", path.display());
        rows.push(
            names
                .iter()
                .map(|n| n.to_string())
                .zip(cells.iter().map(|c| c.to_string()))
                .collect(),
        );
    }
    assert_eq!(headers["fields"], fields.replace(' ', "\t"));
    assert_eq!(headers["types"], types.replace(' ', "\t"));
    assert_eq!(headers["set_separator"], ",");
    assert_eq!(headers["empty_field"], "(empty)");
    assert_eq!(headers["unset_field"], "-");
    Log { headers, rows }
}

/// `date -u` of a JSON timestamp, as Zeek writes `#open`.
fn zeek_date(ts: &Value) -> String {
    let secs = ts.as_str().unwrap().split('.').next().unwrap().to_string();
    let o = Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%d-%H-%M-%S"])
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// The JSON report with every nine-decimal number (the timestamps) read as a string, so
/// that no nanosecond is lost to f64.
fn json_exact(bytes: &[u8]) -> Value {
    let t = std::str::from_utf8(bytes).unwrap().as_bytes();
    let mut out = Vec::with_capacity(t.len() + 1024);
    let mut i = 0;
    let mut in_str = false;
    while i < t.len() {
        let b = t[i];
        if in_str {
            out.push(b);
            if b == b'\\' {
                out.push(t[i + 1]);
                i += 1;
            } else if b == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_str = true;
        }
        if b.is_ascii_digit() && !t[i - 1].is_ascii_digit() && t[i - 1] != b'.' && t[i - 1] != b'-'
        {
            let mut j = i;
            while t[j].is_ascii_digit() {
                j += 1;
            }
            let mut k = j;
            if t[j] == b'.' {
                k += 1;
                while t[k].is_ascii_digit() {
                    k += 1;
                }
            }
            if t[j] == b'.' && k - j - 1 == 9 {
                out.push(b'"');
                out.extend_from_slice(&t[i..k]);
                out.push(b'"');
            } else {
                out.extend_from_slice(&t[i..k]);
            }
            i = k;
            continue;
        }
        out.push(b);
        i += 1;
    }
    serde_json::from_slice(&out).unwrap()
}

/// A JSON time (nine decimals) as Zeek's six, truncated.
fn zeek_time(v: &Value) -> String {
    let s = v.as_str().unwrap().to_string();
    let (a, b) = s.split_once('.').unwrap();
    format!("{a}.{}", &b[..6])
}

fn ns(v: &Value) -> i128 {
    let s = v.as_str().unwrap().to_string();
    let (a, b) = s.split_once('.').unwrap();
    a.parse::<i128>().unwrap() * 1_000_000_000 + b.parse::<i128>().unwrap()
}

fn unescape(s: &str) -> String {
    if s == "(empty)" {
        return String::new();
    }
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap());
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn addr_port(ep: &Value) -> (String, String) {
    let s = ep.as_str().unwrap();
    let (a, p) = s.rsplit_once(':').unwrap();
    (
        a.trim_start_matches('[').trim_end_matches(']').to_string(),
        p.to_string(),
    )
}

fn header(msg: &Value, name: &str) -> Option<String> {
    msg["headers"].as_array()?.iter().find_map(|h| {
        (h[0].as_str().unwrap().eq_ignore_ascii_case(name))
            .then(|| h[1].as_str().unwrap().to_string())
    })
}

fn opt(v: Option<String>) -> String {
    v.unwrap_or_else(|| "-".into())
}

fn check_conn(row: &BTreeMap<String, String>, c: &Value, uids: &mut BTreeMap<String, Value>) {
    let (oh, op) = addr_port(&c["client"]);
    let (rh, rp) = addr_port(&c["server"]);
    let dur = ns(&c["end_ts"]) - ns(&c["start_ts"]);
    let service = match c["app"].as_str().unwrap() {
        "tls" => "ssl",
        "unknown" => "-",
        a => a,
    };
    let missed: u64 = c["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["len"].as_u64().unwrap())
        .sum();
    let timed = |v: &Value| if dur > 0 { v.to_string() } else { "-".into() };
    let history = c["history"].as_str().unwrap();
    let want: BTreeMap<&str, String> = [
        ("ts", zeek_time(&c["start_ts"])),
        ("id.orig_h", oh),
        ("id.orig_p", op),
        ("id.resp_h", rh),
        ("id.resp_p", rp),
        ("proto", "tcp".into()),
        ("service", service.into()),
        (
            "duration",
            if dur > 0 {
                format!("{}.{:06}", dur / 1_000_000_000, dur % 1_000_000_000 / 1000)
            } else {
                "-".into()
            },
        ),
        ("orig_bytes", timed(&c["payload_bytes"]["client"])),
        ("resp_bytes", timed(&c["payload_bytes"]["server"])),
        ("conn_state", c["conn_state"].as_str().unwrap().into()),
        ("local_orig", "-".into()),
        ("local_resp", "-".into()),
        ("missed_bytes", missed.to_string()),
        (
            "history",
            if history.is_empty() {
                "-".into()
            } else {
                history.into()
            },
        ),
        ("orig_pkts", c["packets"]["client"].to_string()),
        ("orig_ip_bytes", "-".into()),
        ("resp_pkts", c["packets"]["server"].to_string()),
        ("resp_ip_bytes", "-".into()),
        ("tunnel_parents", "-".into()),
    ]
    .into_iter()
    .collect();
    for (k, v) in &want {
        assert_eq!(&row[*k], v, "conn {} field {k}", c["id"]);
    }
    let uid = &row["uid"];
    assert!(
        uid.len() == 18
            && uid.starts_with('C')
            && uid[1..].bytes().all(|b| b.is_ascii_alphanumeric()),
        "{uid}"
    );
    assert!(
        uids.insert(uid.clone(), c.clone()).is_none(),
        "uid {uid} unique"
    );
}

fn check_http(row: &BTreeMap<String, String>, c: &Value, depth: usize, x: &Value) {
    let req = &x["request"];
    let resp = &x["response"];
    let has = |m: &Value| !m.is_null();
    let rh = |n: &str| if has(req) { header(req, n) } else { None };
    let version = if has(resp) {
        resp["version"].as_str()
    } else {
        req["version"].as_str()
    }
    .map(|v| v.trim_start_matches("HTTP/").to_string());
    let (oh, op) = addr_port(&c["client"]);
    let (sh, sp) = addr_port(&c["server"]);
    let want: Vec<(&str, String)> = vec![
        (
            "ts",
            zeek_time(if has(req) { &req["ts"] } else { &resp["ts"] }),
        ),
        ("id.orig_h", oh),
        ("id.orig_p", op),
        ("id.resp_h", sh),
        ("id.resp_p", sp),
        ("trans_depth", depth.to_string()),
        ("method", opt(req["method"].as_str().map(String::from))),
        ("host", opt(rh("host").or_else(|| rh(":authority")))),
        ("uri", opt(req["uri"].as_str().map(String::from))),
        ("referrer", opt(rh("referer"))),
        ("version", opt(version)),
        ("user_agent", opt(rh("user-agent"))),
        ("origin", opt(rh("origin"))),
        (
            "request_body_len",
            req["body_bytes_decoded"].as_u64().unwrap_or(0).to_string(),
        ),
        (
            "response_body_len",
            resp["body_bytes_decoded"].as_u64().unwrap_or(0).to_string(),
        ),
        (
            "status_code",
            opt(resp["status"].as_u64().map(|s| s.to_string())),
        ),
        ("status_msg", opt(resp["reason"].as_str().map(String::from))),
        (
            "info_code",
            opt(x["interim"]
                .as_array()
                .and_then(|i| i.last())
                .map(|i| i["status"].to_string())),
        ),
        ("info_msg", "-".into()),
        ("tags", "(empty)".into()),
        ("password", "-".into()),
    ];
    for (k, v) in want {
        let got = if v == "-" || k == "tags" {
            row[k].clone()
        } else {
            unescape(&row[k])
        };
        assert_eq!(got, v, "conn {} exchange {depth} field {k}", c["id"]);
    }
    if rh("authorization").is_none() {
        assert_eq!(row["username"], "-");
    }
    if ["via", "x-forwarded-for", "forwarded"]
        .iter()
        .all(|h| rh(h).is_none())
    {
        assert_eq!(row["proxied"], "-");
    }
    for k in [
        "orig_fuids",
        "orig_filenames",
        "orig_mime_types",
        "resp_fuids",
        "resp_filenames",
        "resp_mime_types",
    ] {
        assert_eq!(row[k], "-", "{k}");
    }
}

/// Check both logs of `file` against its JSON report; the number of HTTP rows.
fn check(file: &Path) -> usize {
    let json = json_exact(&common::pcapgen::run(&[
        "report",
        "--format",
        "json",
        file.to_str().unwrap(),
    ]));
    let dir = tmpdir(&file.file_name().unwrap().to_string_lossy());
    common::pcapgen::run(&[
        "report",
        "--format",
        "zeek",
        "--out",
        dir.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let conn = parse(&dir.join("conn.log"), CONN, CONN_TYPES);
    let http = parse(&dir.join("http.log"), HTTP, HTTP_TYPES);
    let cap = &json["capture"];
    for log in [&conn, &http] {
        assert_eq!(
            log.headers["open"],
            zeek_date(&cap["first_ts"]),
            "{}",
            file.display()
        );
        assert_eq!(log.headers["close"], zeek_date(&cap["last_ts"]));
    }
    assert_eq!(conn.headers["path"], "conn");
    assert_eq!(http.headers["path"], "http");
    let conns = json["connections"].as_array().unwrap();
    assert_eq!(conn.rows.len(), conns.len(), "{}", file.display());
    let mut uids = BTreeMap::new();
    for (row, c) in conn.rows.iter().zip(conns) {
        check_conn(row, c, &mut uids);
    }
    let exchanges: Vec<(&Value, usize, &Value)> = conns
        .iter()
        .flat_map(|c| {
            c.get("http")
                .and_then(|h| h.as_array())
                .into_iter()
                .flatten()
                .enumerate()
                .map(move |(i, x)| (c, i + 1, x))
        })
        .collect();
    assert_eq!(http.rows.len(), exchanges.len(), "{}", file.display());
    for (row, (c, depth, x)) in http.rows.iter().zip(&exchanges) {
        check_http(row, c, *depth, x);
        let joined = &uids[&row["uid"]];
        assert_eq!(
            joined["id"], c["id"],
            "http.log's uid joins its connection in conn.log"
        );
    }
    // The same capture gives the same uids.
    let again = tmpdir(&format!(
        "again-{}",
        file.file_name().unwrap().to_string_lossy()
    ));
    common::pcapgen::run(&[
        "report",
        "--format",
        "zeek",
        "--out",
        again.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(dir.join("conn.log")).unwrap(),
        std::fs::read(again.join("conn.log")).unwrap()
    );
    exchanges.len()
}

#[test]
fn conn_and_http_logs_match_the_json_field_by_field() {
    let merged = tmpdir("merged").with_extension("pcap");
    common::rawpcap::several_connections(&merged);
    let mut http_rows = check(&merged);
    for name in [
        "http-keepalive.pcap",
        "tcp-refused.pcap",
        "http-pipelined.pcap",
        "http-lossy-download.pcap",
        "http-head-304.pcap",
        "http-gzip-chunked.pcap",
        "tcp-midstream.pcap",
        "h2-parallel.pcap",
        "demo-post-continue.pcap",
    ] {
        http_rows += check(&common::bundled(name));
    }
    assert!(http_rows > 20, "HTTP rows were checked: {http_rows}");
    if let Some(dir) = common::public_dir() {
        let mut n = 0;
        for p in common::public_captures(&dir) {
            let stem = p.file_name().unwrap().to_string_lossy().to_string();
            if stem.starts_with("zeek-http") || stem == "zeek-web.pcap" {
                check(&p);
                n += 1;
            }
        }
        assert!(n > 0, "shared Zeek HTTP captures checked");
    }
}

#[test]
fn a_refused_connection_has_zeeks_unset_duration_and_bytes() {
    let dir = tmpdir("refused");
    let f = common::bundled("tcp-refused.pcap");
    common::pcapgen::run(&[
        "report",
        "--format",
        "zeek",
        "--out",
        dir.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    let conn = parse(&dir.join("conn.log"), CONN, CONN_TYPES);
    let r = &conn.rows[0];
    assert_eq!(
        (r["conn_state"].as_str(), r["history"].as_str()),
        ("REJ", "Sr")
    );
    assert_eq!(r["service"], "-");
    assert_eq!(
        (r["orig_pkts"].as_str(), r["resp_pkts"].as_str()),
        ("1", "1")
    );
    // One SYN and its RST in the same microsecond or not: duration and bytes follow it.
    let http = parse(&dir.join("http.log"), HTTP, HTTP_TYPES);
    assert!(http.rows.is_empty());
}

#[test]
fn logs_are_never_overwritten_and_out_must_be_a_folder() {
    let dir = tmpdir("twice");
    let f = common::bundled("http-get.pcap");
    let f = f.to_str().unwrap();
    common::pcapgen::run(&[
        "report",
        "--format",
        "zeek",
        "--out",
        dir.to_str().unwrap(),
        f,
    ]);
    let before = std::fs::read(dir.join("conn.log")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args([
            "report",
            "--format",
            "zeek",
            "--out",
            dir.to_str().unwrap(),
            f,
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("never overwritten"));
    assert_eq!(std::fs::read(dir.join("conn.log")).unwrap(), before);
    let file = dir.join("conn.log");
    let o = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args([
            "report",
            "--format",
            "zeek",
            "--out",
            file.to_str().unwrap(),
            f,
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a folder"));
    for args in [
        vec!["report", "--format", "zeek", f],
        vec!["report", "--out", "/tmp", f],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}");
    }
}

#[test]
fn zeek_cut_reads_the_logs() {
    if Command::new("zeek-cut").arg("-h").output().is_err() {
        println!("skipping zeek_cut_reads_the_logs: zeek-cut is not installed (Debian: zeek-aux)");
        eprintln!("skipping zeek_cut_reads_the_logs: zeek-cut is not installed (Debian: zeek-aux)");
        return;
    }
    let dir = tmpdir("cut");
    let f = common::bundled("http-keepalive.pcap");
    common::pcapgen::run(&[
        "report",
        "--format",
        "zeek",
        "--out",
        dir.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "zeek-cut uri status_code < {}",
            dir.join("http.log").display()
        ))
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    let got: BTreeSet<&str> = text.lines().collect();
    assert_eq!(
        got,
        BTreeSet::from(["/index.html\t200", "/data.json\t200", "/hello.txt\t200"])
    );
}

#[test]
fn live_and_demo_refuse_the_zeek_format_with_the_way_to_get_it() {
    for cmd in ["live", "demo"] {
        let o = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
            .args([cmd, "--format", "zeek"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{cmd}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("--format zeek is for files"), "{cmd}: {e}");
    }
}
