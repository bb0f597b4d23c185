//! HTTP/1.1 by hand, as a lesson on HTTP over raw TCP would write it: request and
//! response heads built line by line, heads read one byte at a time up to the blank
//! line, bodies framed by Content-Length, chunks or the close. No HTTP library.

use std::io::{self, Read, Write};

/// Longest head accepted (request or response).
const HEAD_CAP: usize = 16 * 1024;

/// A request or response head: its first line and its header lines.
#[derive(Clone, Debug, Default)]
pub struct Head {
    pub start: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// A header's value (case-insensitive name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The status code of a response head ("HTTP/1.1 200 OK" -> 200).
    pub fn status(&self) -> Option<u16> {
        self.start.split(' ').nth(1)?.parse().ok()
    }

    pub fn content_length(&self) -> Option<usize> {
        self.get("Content-Length")?.trim().parse().ok()
    }

    pub fn chunked(&self) -> bool {
        self.get("Transfer-Encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    pub fn wants_close(&self) -> bool {
        self.get("Connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Build a head: the start line, each `Name: value` line, then the empty line, each
/// ended by CR LF.
pub fn head(start: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::with_capacity(256);
    b.extend_from_slice(start.as_bytes());
    b.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        b.extend_from_slice(name.as_bytes());
        b.extend_from_slice(b": ");
        b.extend_from_slice(value.as_bytes());
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(b"\r\n");
    b
}

/// A GET request for `uri` on `host`, with `extra` headers after Host and User-Agent.
pub fn get(uri: &str, host: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut h = vec![("Host", host), ("User-Agent", "tcpscope-demo/1")];
    h.extend_from_slice(extra);
    head(&format!("GET {uri} HTTP/1.1"), &h)
}

/// Read a head one byte at a time up to and including the empty line. `Ok(None)`: the
/// peer closed before sending anything.
pub fn read_head(s: &mut impl Read) -> io::Result<Option<Head>> {
    let mut buf = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte)? {
            0 if buf.is_empty() => return Ok(None),
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "head cut short",
                ));
            }
            _ => buf.push(byte[0]),
        }
        if buf.len() > HEAD_CAP {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
        }
    }
    Ok(Some(parse_head(&buf)))
}

/// Split a head into its start line and headers (lenient: lines without a colon are
/// skipped).
pub fn parse_head(buf: &[u8]) -> Head {
    let text = String::from_utf8_lossy(buf);
    let mut lines = text.split("\r\n");
    let start = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    Head { start, headers }
}

/// A response as the client read it.
#[derive(Clone, Debug, Default)]
pub struct Response {
    pub head: Head,
    pub body: Vec<u8>,
    /// Chunks read (chunked responses only).
    pub chunks: usize,
}

/// Read one line ending in CR LF (chunk sizes, trailers), without the CR LF.
fn read_line(s: &mut impl Read) -> io::Result<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n") {
        if s.read(&mut byte)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "line cut short",
            ));
        }
        buf.push(byte[0]);
        if buf.len() > HEAD_CAP {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
    }
    buf.truncate(buf.len() - 2);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Read the body that `head` announces: chunked, Content-Length, or up to the close.
pub fn read_body(s: &mut impl Read, head: Head) -> io::Result<Response> {
    let mut r = Response {
        head,
        ..Default::default()
    };
    if r.head.chunked() {
        loop {
            let line = read_line(s)?;
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, then the empty line.
                while !read_line(s)?.is_empty() {}
                break;
            }
            let at = r.body.len();
            r.body.resize(at + size.min(1 << 20), 0);
            s.read_exact(&mut r.body[at..])?;
            read_line(s)?;
            r.chunks += 1;
        }
    } else if let Some(n) = r.head.content_length() {
        r.body.resize(n.min(1 << 24), 0);
        s.read_exact(&mut r.body)?;
    } else {
        s.read_to_end(&mut r.body)?;
    }
    Ok(r)
}

/// Read a whole response (head and body).
pub fn read_response(s: &mut impl Read) -> io::Result<Response> {
    let head = read_head(s)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "closed before a response"))?;
    read_body(s, head)
}

/// Write a response with a Content-Length body.
pub fn respond(
    s: &mut impl Write,
    status: &str,
    ctype: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> io::Result<()> {
    let len = body.len().to_string();
    let mut h = vec![
        ("Server", "tcpscope-demo"),
        ("Content-Type", ctype),
        ("Content-Length", len.as_str()),
    ];
    h.extend_from_slice(extra);
    let mut msg = head(&format!("HTTP/1.1 {status}"), &h);
    msg.extend_from_slice(body);
    s.write_all(&msg)
}

/// One line for the narration: the first line of a head.
pub fn first_line(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    s.split("\r\n").next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_built_line_by_line() {
        let b = get("/x", "h", &[("Connection", "close")]);
        assert_eq!(
            b,
            b"GET /x HTTP/1.1\r\nHost: h\r\nUser-Agent: tcpscope-demo/1\r\nConnection: close\r\n\r\n"
        );
        let h = parse_head(&b);
        assert_eq!(h.start, "GET /x HTTP/1.1");
        assert!(h.wants_close());
        assert_eq!(h.get("host"), Some("h"));
    }

    #[test]
    fn status_and_framing() {
        let h = parse_head(b"HTTP/1.1 100 Continue\r\n\r\n");
        assert_eq!(h.status(), Some(100));
        let h = parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(h.chunked());
        assert_eq!(h.content_length(), None);
    }
}
