//! Message framing: locating and parsing a header section (httparse with a
//! lenient fallback that flags what it tolerates), deciding how a body is
//! delimited (RFC 9112 §6). The chunked decoder is in chunked.rs.
//!
//! Owns: pure functions over byte slices.
//! Must not touch exchanges, timing, body storage or content decoding.

use super::anomaly::Anomaly;
use super::{Dir, Status};

/// Header or trailer fields, in order, as (name, value).
pub(crate) type Fields = Vec<(String, String)>;

/// Parsed start line; the assembler turns this into Request/Response.
#[derive(Debug, Clone)]
pub(crate) enum StartLine {
    Request {
        method: String,
        uri: String,
        version: String,
    },
    Response {
        status: u16,
        reason: String,
        version: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub start: StartLine,
    /// Every header seen, even past `max_headers`, so framing cannot be
    /// smuggled behind the storage limit; the caller truncates for storage.
    pub headers: Vec<(String, String)>,
    pub anomalies: Vec<Anomaly>,
}

/// Find the end of a header section: `Complete(len, ())` with `len` just past the blank
/// line. `Partial(resume)`: not yet; `resume` is where the next search may start so that
/// byte-at-a-time input stays linear.
pub(crate) fn find_head_end(data: &[u8], from: usize) -> Status<()> {
    let mut i = from;
    while let Some(off) = data
        .get(i..)
        .and_then(|s| s.iter().position(|&b| b == b'\n'))
    {
        let nl = i + off;
        match data.get(nl + 1..) {
            Some([b'\n', ..]) => return Status::Complete(nl + 2, ()),
            Some([b'\r', b'\n', ..]) => return Status::Complete(nl + 3, ()),
            // Cannot tell yet: re-examine this LF next time.
            Some([]) | Some([b'\r']) | None => return Status::Partial(nl),
            Some(_) => i = nl + 1,
        }
    }
    Status::Partial(data.len())
}

fn version_str(v: Option<u8>) -> String {
    match v {
        Some(0) => "HTTP/1.0".to_string(),
        _ => "HTTP/1.1".to_string(),
    }
}

pub(super) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn push_once(list: &mut Vec<Anomaly>, msg: Anomaly) {
    if !list.contains(&msg) {
        list.push(msg);
    }
}

/// Parse a complete header section (`head` ends with the blank line).
/// Never fails: the start line was already judged plausible, and whatever
/// httparse rejects is re-parsed leniently with anomalies recorded.
pub(crate) fn parse_head(dir: Dir, head: &[u8], max_headers: usize) -> Head {
    let mut anomalies = Vec::new();
    let mut folded = false;
    for (i, &b) in head.iter().enumerate() {
        if b != b'\n' {
            continue;
        }
        if i == 0 || head.get(i - 1) != Some(&b'\r') {
            push_once(&mut anomalies, Anomaly::BareLf);
        }
        if matches!(head.get(i + 1), Some(b' ' | b'\t')) {
            folded = true;
        }
    }
    if folded {
        push_once(&mut anomalies, Anomaly::ObsoleteFolding);
    }
    if !folded {
        // httparse needs its slots up front; sized by config, not by input. On the stack
        // for the usual limits: a heap vector of them for every head was ~1.5% of a
        // report's CPU time.
        let want = max_headers.max(1);
        let mut on_stack = [httparse::EMPTY_HEADER; STACK_SLOTS];
        let mut on_heap;
        let slots: &mut [httparse::Header<'_>] = match on_stack.get_mut(..want) {
            Some(s) => s,
            None => {
                on_heap = vec![httparse::EMPTY_HEADER; want];
                &mut on_heap
            }
        };
        let res = match dir {
            Dir::Client => {
                let mut req = httparse::Request::new(slots);
                match req.parse(head) {
                    Ok(httparse::Status::Complete(_)) => Ok(Head {
                        start: StartLine::Request {
                            method: req.method.unwrap_or_default().to_string(),
                            uri: req.path.unwrap_or_default().to_string(),
                            version: version_str(req.version),
                        },
                        headers: collect(req.headers),
                        anomalies: Vec::new(),
                    }),
                    Ok(httparse::Status::Partial) => Err(None),
                    Err(e) => Err(Some(e)),
                }
            }
            Dir::Server => {
                let mut resp = httparse::Response::new(slots);
                match resp.parse(head) {
                    Ok(httparse::Status::Complete(_)) => Ok(Head {
                        start: StartLine::Response {
                            status: resp.code.unwrap_or_default(),
                            reason: resp.reason.unwrap_or_default().to_string(),
                            version: version_str(resp.version),
                        },
                        headers: collect(resp.headers),
                        anomalies: Vec::new(),
                    }),
                    Ok(httparse::Status::Partial) => Err(None),
                    Err(e) => Err(Some(e)),
                }
            }
        };
        match res {
            Ok(mut h) => {
                h.anomalies = anomalies;
                return h;
            }
            Err(Some(httparse::Error::TooManyHeaders)) => {
                push_once(&mut anomalies, Anomaly::TooManyHeaders { max: max_headers });
            }
            Err(_) => {}
        }
    }
    lenient(dir, head, max_headers, anomalies)
}

/// Header slots kept on the stack (the default `max_headers` is 100).
const STACK_SLOTS: usize = 128;

fn collect(hs: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    hs.iter()
        .map(|h| (h.name.to_string(), lossy(h.value)))
        .collect()
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

pub(super) fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Line-oriented fallback used when httparse refuses the section (invalid
/// name bytes, folding, too many headers). It keeps going and records why.
fn lenient(dir: Dir, head: &[u8], max_headers: usize, mut anomalies: Vec<Anomaly>) -> Head {
    let mut lines = head.split(|&b| b == b'\n').map(|l| match l {
        [rest @ .., b'\r'] => rest,
        l => l,
    });
    let first = lines.next().unwrap_or_default();
    let start = parse_start_line(dir, first);
    if let Some(extra) = extra_tokens(dir, first) {
        push_once(&mut anomalies, Anomaly::ExtraTokens { text: extra });
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            // RFC 9112 §5.2: replace obs-fold with SP when keeping the value.
            match headers.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(&String::from_utf8_lossy(trim(line)));
                }
                None => push_once(&mut anomalies, Anomaly::MalformedHeaderLine),
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            push_once(&mut anomalies, Anomaly::MalformedHeaderLine);
            continue;
        };
        let (name, value) = line.split_at(colon);
        let value = value.get(1..).unwrap_or_default();
        if matches!(name.last(), Some(b' ' | b'\t')) {
            push_once(&mut anomalies, Anomaly::SpaceBeforeColon);
        }
        let name = trim(name);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            push_once(&mut anomalies, Anomaly::InvalidHeaderName);
        }
        headers.push((lossy(name), lossy(trim(value))));
    }
    if headers.len() > max_headers {
        push_once(&mut anomalies, Anomaly::TooManyHeaders { max: max_headers });
    }
    Head {
        start,
        headers,
        anomalies,
    }
}

/// Tokens between a request's target and its version (`CONNECT host:25 / HTTP/1.0` has
/// one: `/`), which httparse refuses and Zeek and common servers accept.
fn extra_tokens(dir: Dir, line: &[u8]) -> Option<String> {
    if dir != Dir::Client {
        return None;
    }
    let line = match line {
        [rest @ .., b'\r'] => rest,
        l => l,
    };
    let toks: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let mid = toks.get(2..toks.len().saturating_sub(1))?;
    if mid.is_empty() {
        return None;
    }
    Some(mid.iter().map(|t| lossy(t)).collect::<Vec<_>>().join(" "))
}

/// Best-effort start-line parse; used by the lenient path and when a head is
/// abandoned (too large) but we still want to show what it was.
pub(crate) fn parse_start_line(dir: Dir, line: &[u8]) -> StartLine {
    let line = match line.iter().position(|&b| b == b'\n') {
        Some(i) => line.get(..i).unwrap_or_default(),
        None => line,
    };
    let line = match line {
        [rest @ .., b'\r'] => rest,
        l => l,
    };
    let mut parts = line.splitn(3, |&b| b == b' ');
    let a = parts.next().unwrap_or_default();
    let b = parts.next().unwrap_or_default();
    let c = parts.next().unwrap_or_default();
    match dir {
        Dir::Client => StartLine::Request {
            method: lossy(a),
            uri: lossy(b),
            // Extra tokens before the version (tolerated, see `extra_tokens`): the
            // version is the last token.
            version: lossy(c.rsplit(|&b| b == b' ').next().unwrap_or_default()),
        },
        Dir::Server => StartLine::Response {
            status: std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            reason: lossy(c),
            version: lossy(a),
        },
    }
}

/// How a message body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    None,
    Length(u64),
    Chunked,
    /// Ends when the sender closes (responses, or a request with a
    /// non-chunked Transfer-Encoding, which RFC 9112 says is unframeable).
    Close,
}

#[derive(Debug)]
pub(crate) struct Framing {
    pub kind: BodyKind,
    /// Normalised Content-Encoding ("gzip", "br", "gzip, br"); None = identity.
    pub content_encoding: Option<String>,
    /// A transfer coding other than chunked was applied: we cannot decode it.
    pub undecodable_transfer: bool,
    pub anomalies: Vec<Anomaly>,
}

fn tokens<'a>(headers: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = String> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
}

/// A header's value by name (ASCII case-insensitive), the first if repeated.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What the Content-Length fields say.
struct ContentLength {
    /// The first valid value.
    value: Option<u64>,
    invalid: bool,
    seen: bool,
}

fn content_length(headers: &[(String, String)], anomalies: &mut Vec<Anomaly>) -> ContentLength {
    let mut cl = ContentLength {
        value: None,
        invalid: false,
        seen: false,
    };
    for v in tokens(headers, "content-length") {
        cl.seen = true;
        // Digits only; u64 parse rejects signs and overflow, so a huge value
        // is either a number we count down from (never allocate) or invalid.
        let parsed = if v.bytes().all(|b| b.is_ascii_digit()) {
            v.parse::<u64>().ok()
        } else {
            None
        };
        match (parsed, cl.value) {
            (None, _) => cl.invalid = true,
            (Some(n), None) => cl.value = Some(n),
            (Some(n), Some(prev)) if n != prev => {
                push_once(anomalies, Anomaly::DuplicateContentLength)
            }
            _ => {}
        }
    }
    if cl.invalid {
        push_once(anomalies, Anomaly::InvalidContentLength);
    }
    cl
}

/// RFC 9112 §6.3. `no_body` covers the response cases decided by the request
/// method or status (HEAD, 1xx, 204, 304) which trump every header.
pub(crate) fn body_framing(
    headers: &[(String, String)],
    is_request: bool,
    no_body: bool,
) -> Framing {
    let mut anomalies = Vec::new();
    let te: Vec<String> = tokens(headers, "transfer-encoding").collect();
    let ContentLength {
        value: cl,
        invalid: cl_invalid,
        seen: cl_seen,
    } = content_length(headers, &mut anomalies);
    if !te.is_empty() && cl_seen {
        push_once(&mut anomalies, Anomaly::LengthAndTransferEncoding);
    }
    let mut undecodable_transfer = false;
    for (i, t) in te.iter().enumerate() {
        match t.as_str() {
            "identity" => {}
            "chunked" if i + 1 == te.len() => {}
            "chunked" => push_once(&mut anomalies, Anomaly::ChunkedNotFinal),
            other => {
                undecodable_transfer = true;
                push_once(
                    &mut anomalies,
                    Anomaly::UnsupportedTransferCoding {
                        coding: other.to_string(),
                    },
                );
            }
        }
    }
    let content_encoding = content_encoding(headers);
    let kind = if no_body {
        BodyKind::None
    } else if !te.is_empty() {
        // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3 item 3).
        if te.last().map(String::as_str) == Some("chunked") {
            BodyKind::Chunked
        } else if is_request {
            push_once(&mut anomalies, Anomaly::RequestTransferEncodingUnframed);
            BodyKind::Close
        } else {
            BodyKind::Close
        }
    } else if cl_invalid {
        if is_request {
            BodyKind::None
        } else {
            BodyKind::Close
        }
    } else if let Some(n) = cl {
        if n == 0 {
            BodyKind::None
        } else {
            BodyKind::Length(n)
        }
    } else if is_request {
        BodyKind::None
    } else {
        BodyKind::Close
    };
    Framing {
        kind,
        content_encoding,
        undecodable_transfer,
        anomalies,
    }
}

/// The Content-Encoding codings (identity dropped), joined as the data model keeps them.
pub(crate) fn content_encoding(headers: &[(String, String)]) -> Option<String> {
    let ce: Vec<String> = tokens(headers, "content-encoding")
        .filter(|t| t != "identity")
        .collect();
    if ce.is_empty() {
        None
    } else {
        Some(ce.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(a: &[Anomaly]) -> Vec<String> {
        a.iter().map(Anomaly::to_string).collect()
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn head_end() {
        let cases: &[(&[u8], Status<()>)] = &[
            (b"GET / HTTP/1.1\r\n\r\n", Status::Complete(18, ())),
            (b"GET / HTTP/1.1\n\n", Status::Complete(16, ())),
            (b"GET / HTTP/1.1\r\nA: b\r\n", Status::Partial(21)),
            (b"GET / HTTP/1.1\r\nA: b\r\n\r", Status::Partial(21)),
            (b"GET / HTTP/1.1", Status::Partial(14)),
        ];
        for (data, want) in cases {
            assert_eq!(find_head_end(data, 0), *want);
        }
    }

    /// (headers, is_request, expected kind, expected anomalies)
    type FramingCase<'a> = (&'a [(&'a str, &'a str)], bool, BodyKind, &'a [&'a str]);

    #[test]
    fn framing_table() {
        let cases: &[FramingCase] = &[
            (&[], true, BodyKind::None, &[]),
            (&[], false, BodyKind::Close, &[]),
            (&[("Content-Length", "5")], true, BodyKind::Length(5), &[]),
            (
                &[("Content-Length", "5, 5")],
                true,
                BodyKind::Length(5),
                &[],
            ),
            (
                &[("Content-Length", "5"), ("Content-Length", "6")],
                false,
                BodyKind::Length(5),
                &["duplicate differing Content-Length"],
            ),
            (
                &[("Content-Length", "99999999999999999999999")],
                false,
                BodyKind::Close,
                &["invalid Content-Length"],
            ),
            (
                &[("Content-Length", "18446744073709551615")],
                false,
                BodyKind::Length(u64::MAX),
                &[],
            ),
            (
                &[("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
                true,
                BodyKind::Chunked,
                &["both Content-Length and Transfer-Encoding (request smuggling ambiguity)"],
            ),
            (
                &[("transfer-encoding", "Chunked")],
                false,
                BodyKind::Chunked,
                &[],
            ),
        ];
        for (hs, is_req, kind, anomalies) in cases {
            let f = body_framing(&h(hs), *is_req, false);
            assert_eq!(f.kind, *kind, "{hs:?}");
            assert_eq!(texts(&f.anomalies), *anomalies, "{hs:?}");
        }
    }

    #[test]
    fn lenient_heads() {
        let cases: &[(&[u8], &[&str], usize)] = &[
            (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &[], 1),
            (b"GET / HTTP/1.1\nHost: a\n\n", &["bare LF line ending"], 1),
            (
                b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
                &["obsolete line folding"],
                1,
            ),
            (
                b"GET / HTTP/1.1\r\nX\xffY: a\r\n\r\n",
                &["invalid bytes in header name"],
                1,
            ),
            (
                b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
                &["too many headers (more than 2)"],
                3,
            ),
            (
                b"CONNECT mail.example:25 / HTTP/1.0\r\nHost: a\r\n\r\n",
                &["extra tokens in request line before the version: \"/\""],
                1,
            ),
        ];
        for (data, anomalies, n) in cases {
            let head = parse_head(Dir::Client, data, 2);
            assert_eq!(texts(&head.anomalies), *anomalies, "{data:?}");
            assert_eq!(head.headers.len(), *n, "{data:?}");
        }
        let head = parse_head(Dir::Client, b"CONNECT m:25 / HTTP/1.0\r\n\r\n", 10);
        match head.start {
            StartLine::Request {
                method,
                uri,
                version,
            } => assert_eq!(
                (&*method, &*uri, &*version),
                ("CONNECT", "m:25", "HTTP/1.0")
            ),
            other => panic!("{other:?}"),
        }
        let head = parse_head(Dir::Client, b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 10);
        assert_eq!(head.headers, h(&[("X", "a b")]));
    }

    /// The header slots live on the stack up to `STACK_SLOTS`, on the heap beyond: both
    /// parse every header and stop at the limit alike.
    #[test]
    fn header_limits_on_stack_and_heap() {
        for (dir, start) in [
            (Dir::Client, "GET / HTTP/1.1\r\n"),
            (Dir::Server, "HTTP/1.1 200 OK\r\n"),
        ] {
            for limit in [
                STACK_SLOTS - 1,
                STACK_SLOTS,
                STACK_SLOTS + 1,
                3 * STACK_SLOTS,
            ] {
                for count in [limit, limit + 1] {
                    let mut data = start.to_string();
                    for i in 0..count {
                        data.push_str(&format!("X-{i}: {i}\r\n"));
                    }
                    data.push_str("\r\n");
                    let head = parse_head(dir, data.as_bytes(), limit);
                    let over = texts(&head.anomalies)
                        .contains(&format!("too many headers (more than {limit})"));
                    assert_eq!(over, count > limit, "{limit} {count}");
                    if count <= limit {
                        assert_eq!(head.headers.len(), count);
                        assert_eq!(head.headers[count - 1].1, (count - 1).to_string());
                    }
                }
            }
        }
    }
}
