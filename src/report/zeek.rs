//! Zeek's conn.log and http.log in its ASCII (TSV) format, so zeek-cut, Zui/Brim and RITA
//! read tcpscope's connections: the `#separator`... `#types` header, one line per
//! connection (conn.log) and per HTTP exchange (http.log), `#close` at the end.
//!
//! Decisions (docs/guide.md, "Zeek logs"):
//! - `uid` is `C` + 17 base62 digits of the SHA-256 of the connection's id, first packet
//!   time and endpoints: the same capture gives the same uids wherever it lies, and
//!   http.log's uid joins conn.log's.
//! - `#open`/`#close` are the capture's first and last packet times (UTC), not the wall
//!   clock, so a report is reproducible.
//! - Fields tcpscope does not measure are unset (`-`), as Zeek leaves them: local_orig,
//!   local_resp (no local networks configured), orig_ip_bytes, resp_ip_bytes,
//!   tunnel_parents, and http.log's file fields. orig_bytes/resp_bytes are the TCP
//!   payload bytes on the wire (retransmissions included; Zeek's come from sequence
//!   numbers, so they agree when nothing was resent); like Zeek, duration and both byte
//!   counts are unset when the duration is 0.
//!
//! The header's `#open` value has a fixed width and is written last (a seek back), since
//! the first packet's time is known only at the end of a streamed report.

use crate::pipeline::{CaptureStats, Connection};
use crate::ts::Ts;
use sha2::{Digest, Sha256};
use std::io::{self, Seek, SeekFrom, Write};

/// conn.log's columns and Zeek types.
pub const CONN_FIELDS: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
];

/// http.log's columns and Zeek types.
pub const HTTP_FIELDS: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("trans_depth", "count"),
    ("method", "string"),
    ("host", "string"),
    ("uri", "string"),
    ("referrer", "string"),
    ("version", "string"),
    ("user_agent", "string"),
    ("origin", "string"),
    ("request_body_len", "count"),
    ("response_body_len", "count"),
    ("status_code", "count"),
    ("status_msg", "string"),
    ("info_code", "count"),
    ("info_msg", "string"),
    ("tags", "set[enum]"),
    ("username", "string"),
    ("password", "string"),
    ("proxied", "set[string]"),
    ("orig_fuids", "vector[string]"),
    ("orig_filenames", "vector[string]"),
    ("orig_mime_types", "vector[string]"),
    ("resp_fuids", "vector[string]"),
    ("resp_filenames", "vector[string]"),
    ("resp_mime_types", "vector[string]"),
];

const UNSET: &str = "-";
const EMPTY: &str = "(empty)";
/// `#open\t` + `YYYY-MM-DD-HH-MM-SS`: the value is always 19 characters.
const PLACEHOLDER: &str = "0000-00-00-00-00-00";

/// One log file being written.
struct Log<W: Write + Seek> {
    out: W,
    /// Where the `#open` value starts.
    open_at: u64,
}

impl<W: Write + Seek> Log<W> {
    fn start(mut out: W, path: &str, fields: &[(&str, &str)]) -> io::Result<Self> {
        let names: Vec<&str> = fields.iter().map(|f| f.0).collect();
        let types: Vec<&str> = fields.iter().map(|f| f.1).collect();
        write!(
            out,
            "#separator \\x09\n#set_separator\t,\n#empty_field\t{EMPTY}\n#unset_field\t{UNSET}\n#path\t{path}\n#open\t"
        )?;
        let open_at = out.stream_position()?;
        writeln!(out, "{PLACEHOLDER}")?;
        writeln!(out, "#fields\t{}", names.join("\t"))?;
        writeln!(out, "#types\t{}", types.join("\t"))?;
        Ok(Log { out, open_at })
    }

    fn row(&mut self, cells: &[String]) -> io::Result<()> {
        self.out.write_all(cells.join("\t").as_bytes())?;
        self.out.write_all(b"\n")
    }

    fn finish(mut self, open: Ts, close: Ts) -> io::Result<W> {
        writeln!(self.out, "#close\t{}", zeek_date(close))?;
        let end = self.out.stream_position()?;
        self.out.seek(SeekFrom::Start(self.open_at))?;
        self.out.write_all(zeek_date(open).as_bytes())?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// conn.log and http.log being written: `connection` for each, then `finish`.
pub struct ZeekWriter<W: Write + Seek> {
    conn: Log<W>,
    http: Log<W>,
}

impl<W: Write + Seek> ZeekWriter<W> {
    pub fn new(conn: W, http: W) -> io::Result<Self> {
        Ok(ZeekWriter {
            conn: Log::start(conn, "conn", CONN_FIELDS)?,
            http: Log::start(http, "http", HTTP_FIELDS)?,
        })
    }

    pub fn connection(&mut self, c: &Connection) -> io::Result<()> {
        let uid = uid(c);
        self.conn.row(&conn_row(c, &uid))?;
        for (depth, x) in c.http.iter().enumerate() {
            self.http.row(&http_row(c, &uid, depth + 1, x))?;
        }
        Ok(())
    }

    /// Close both logs; the `#open`/`#close` times are the capture's first and last.
    pub fn finish(self, stats: &CaptureStats) -> io::Result<(W, W)> {
        let open = stats.first_ts.unwrap_or(Ts(0));
        let close = stats.last_ts.unwrap_or(open);
        Ok((
            self.conn.finish(open, close)?,
            self.http.finish(open, close)?,
        ))
    }
}

/// The connection's Zeek uid: `C` + 17 base62 digits.
pub fn uid(c: &Connection) -> String {
    let mut h = Sha256::new();
    h.update(c.id.to_le_bytes());
    h.update(c.start_ts.0.to_le_bytes());
    h.update(c.client.to_string().as_bytes());
    h.update(b"-");
    h.update(c.server.to_string().as_bytes());
    let d = h.finalize();
    let mut n = u128::from_le_bytes(d[..16].try_into().unwrap_or([0; 16])) >> 27; // 101 bits
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut s = String::from("C");
    for _ in 0..17 {
        s.push(DIGITS[(n % 62) as usize] as char);
        n /= 62;
    }
    s
}

/// Zeek's `service` for the detected protocol (TLS is `ssl` in Zeek).
pub fn service(c: &Connection) -> &'static str {
    use crate::http::AppProto::*;
    match c.app {
        Http => "http",
        Tls => "ssl",
        Http2 => "http2",
        Ssh => "ssh",
        Smtp => "smtp",
        Ftp => "ftp",
        FtpData => "ftp-data",
        Unknown => UNSET,
    }
}

fn conn_row(c: &Connection, uid: &str) -> Vec<String> {
    let dur = c.end_ts.0.saturating_sub(c.start_ts.0);
    let (state, history, missed) = match &c.summary {
        Some(s) => (
            s.conn_state,
            s.history.as_str(),
            s.gaps.iter().map(|g| g.len).sum::<u64>(),
        ),
        None => ("OTH", "", 0),
    };
    let timed = |v: u64| if dur > 0 { v.to_string() } else { UNSET.into() };
    vec![
        time(c.start_ts),
        uid.to_string(),
        c.client.addr.to_string(),
        c.client.port.to_string(),
        c.server.addr.to_string(),
        c.server.port.to_string(),
        "tcp".into(),
        service(c).into(),
        if dur > 0 { time(Ts(dur)) } else { UNSET.into() },
        timed(c.payload_bytes.client),
        timed(c.payload_bytes.server),
        state.into(),
        UNSET.into(),
        UNSET.into(),
        missed.to_string(),
        if history.is_empty() {
            UNSET.into()
        } else {
            escape(history)
        },
        c.packets.client.to_string(),
        UNSET.into(),
        c.packets.server.to_string(),
        UNSET.into(),
        UNSET.into(),
    ]
}

fn http_row(c: &Connection, uid: &str, depth: usize, x: &crate::http::Exchange) -> Vec<String> {
    let req = x.request.as_ref();
    let resp = x.response.as_ref();
    let ts = req.map(|r| r.meta.ts).or(resp.map(|r| r.meta.ts));
    let req_h = |name: &str| {
        req.and_then(|r| header(&r.meta.headers, name))
            .map_or(UNSET.into(), escape)
    };
    let version = resp
        .map(|r| r.meta.version.as_str())
        .or(req.map(|r| r.meta.version.as_str()))
        .map_or(UNSET.into(), |v| escape(v.trim_start_matches("HTTP/")));
    let host = req
        .and_then(|r| header(&r.meta.headers, "host").or(header(&r.meta.headers, ":authority")))
        .map_or(UNSET.into(), escape);
    vec![
        ts.map_or(UNSET.into(), time),
        uid.to_string(),
        c.client.addr.to_string(),
        c.client.port.to_string(),
        c.server.addr.to_string(),
        c.server.port.to_string(),
        depth.to_string(),
        req.map_or(UNSET.into(), |r| escape(&r.method)),
        host,
        req.map_or(UNSET.into(), |r| escape(&r.uri)),
        req_h("referer"),
        version,
        req_h("user-agent"),
        req_h("origin"),
        req.map_or(0, |r| r.meta.body_bytes_decoded).to_string(),
        resp.map_or(0, |r| r.meta.body_bytes_decoded).to_string(),
        resp.map_or(UNSET.into(), |r| r.status.to_string()),
        resp.map_or(UNSET.into(), |r| escape(&r.reason)),
        x.interim
            .last()
            .map_or(UNSET.into(), |i| i.status.to_string()),
        UNSET.into(),
        EMPTY.into(),
        req.and_then(|r| basic_user(&r.meta.headers))
            .map_or(UNSET.into(), |u| escape(&u)),
        UNSET.into(),
        req.map_or(UNSET.into(), |r| proxied(&r.meta.headers)),
        UNSET.into(),
        UNSET.into(),
        UNSET.into(),
        UNSET.into(),
        UNSET.into(),
        UNSET.into(),
    ]
}

/// The first header of that name (case-insensitive).
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The user name of `Authorization: Basic ...` (Zeek logs it; the password it does not
/// by default, and neither does tcpscope).
fn basic_user(headers: &[(String, String)]) -> Option<String> {
    let v = header(headers, "authorization")?.trim();
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64_decode(b64.trim())?;
    let text = String::from_utf8_lossy(&raw);
    Some(text.split_once(':').map_or(&*text, |(u, _)| u).to_string())
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in s.bytes().filter(|&b| b != b'=') {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Zeek's `proxied`: the proxy headers of the request, `NAME -> value`, comma-separated.
fn proxied(headers: &[(String, String)]) -> String {
    const PROXY: &[&str] = &[
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-from",
        "client-ip",
        "via",
        "xroxy-connection",
        "proxy-connection",
    ];
    let v: Vec<String> = headers
        .iter()
        .filter(|(n, _)| PROXY.iter().any(|p| n.eq_ignore_ascii_case(p)))
        .map(|(n, v)| escape(&format!("{} -> {v}", n.to_ascii_uppercase())).replace(',', "\\x2c"))
        .collect();
    if v.is_empty() {
        UNSET.into()
    } else {
        v.join(",")
    }
}

/// A Zeek `time`/`interval`: seconds with six decimals (microseconds, truncated).
pub fn time(t: Ts) -> String {
    let us = t.0.div_euclid(1000);
    format!(
        "{}.{:06}",
        us.div_euclid(1_000_000),
        us.rem_euclid(1_000_000)
    )
}

/// `#open`/`#close`: `YYYY-MM-DD-HH-MM-SS` in UTC.
pub fn zeek_date(t: Ts) -> String {
    let secs = t.0.div_euclid(1_000_000_000).clamp(0, 253_402_300_799);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}-{:02}-{:02}-{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// A string field as Zeek's ASCII writer escapes it: bytes outside printable ASCII, the
/// backslash, and a value that would read as unset or empty, as `\xHH`; an empty string
/// is `(empty)`.
pub fn escape(s: &str) -> String {
    if s.is_empty() {
        return EMPTY.into();
    }
    if s == UNSET {
        return "\\x2d".into();
    }
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if out == EMPTY {
        return "\\x28empty)".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_times_and_escapes() {
        assert_eq!(zeek_date(Ts(0)), "1970-01-01-00-00-00");
        assert_eq!(
            zeek_date(Ts(1_700_000_000_123_456_789)),
            "2023-11-14-22-13-20"
        );
        assert_eq!(
            zeek_date(Ts(951_825_600 * 1_000_000_000)),
            "2000-02-29-12-00-00"
        );
        assert_eq!(time(Ts(1_700_000_000_123_456_789)), "1700000000.123456");
        assert_eq!(escape("a\tb\\c\u{e9}"), "a\\x09b\\x5cc\\xc3\\xa9");
        assert_eq!(escape("-"), "\\x2d");
        assert_eq!(escape(""), "(empty)");
        assert_eq!(escape("(empty)"), "\\x28empty)");
        assert_eq!(base64_decode("dXNlcjpwdw==").unwrap(), b"user:pw");
        let h = vec![("Authorization".into(), "Basic dXNlcjpwdw==".into())];
        assert_eq!(basic_user(&h).as_deref(), Some("user"));
    }
}
