//! What HTTP each data segment of a connection carries, as a short label for the ladder
//! (`GET /x`, `200 OK (head)`, `body 1448 B`, `chunk 0x12 (18 B)`, `last-chunk`), and
//! each chunked response's chunks (size, frame) for the HTTP tab.
//!
//! Pure: computed from the byte offsets of the reassembled streams — the pieces in stream
//! order, each with the frame that delivered it — by following HTTP/1.x framing (head to
//! the blank line, then Content-Length, chunked or close-delimited bodies). After a gap
//! it cannot know where a message starts, so it says nothing more for that direction
//! (except inside a body of known length, which the gap only shortens).

use crate::flow::Dir;
use std::collections::{HashMap, VecDeque};

/// A piece of one direction's reassembled stream.
#[derive(Clone, Copy, Debug)]
pub enum WirePiece<'a> {
    Data(&'a [u8]),
    /// Bytes never captured.
    Gap(u64),
}

/// One chunk of a chunked body: its size and the frame its size line ended in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub size: u64,
    pub frame: u64,
}

/// The labels by frame, and the chunks of each final response (in the server's order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WireHttp {
    pub labels: HashMap<u64, String>,
    /// For the n-th final response of the connection, its chunks (empty: not chunked).
    pub chunks: Vec<Vec<Chunk>>,
}

/// Longest head followed (a longer one is not HTTP we can label).
const HEAD_CAP: usize = 64 * 1024;

/// Where one direction's parse is.
#[derive(Debug)]
enum St {
    /// In a head: the bytes so far and the frame it began in.
    Head(Vec<u8>, u64),
    /// In a body of known length: bytes left.
    Body(u64),
    /// In a close-delimited body.
    Close,
    /// In a chunk-size line: its bytes so far.
    Size(Vec<u8>),
    /// In a chunk's data: bytes left, then its CRLF.
    Data(u64),
    /// The CRLF after a chunk's data: bytes of it left.
    DataEnd(u8),
    /// The trailer section after the last chunk, up to its blank line.
    Trailer(Vec<u8>),
    /// Lost (after a gap, a tunnel or a head we cannot read).
    Lost,
}

/// One direction's parser.
struct Side<'m> {
    response: bool,
    st: St,
    /// Requests' methods in order (the client side fills, the server side takes).
    methods: &'m mut VecDeque<String>,
    /// Labels by frame, in order of appearance.
    labels: Vec<(u64, String)>,
    chunks: Vec<Vec<Chunk>>,
}

/// The HTTP labels and chunks of a connection's stream `pieces` (direction, frame,
/// piece), in stream order within each direction.
pub fn wire_http(pieces: &[(Dir, u64, WirePiece)]) -> WireHttp {
    let mut methods = VecDeque::new();
    let mut out = WireHttp::default();
    let mut all: Vec<(u64, String)> = Vec::new();
    for dir in [Dir::Client, Dir::Server] {
        let mut side = Side {
            response: dir == Dir::Server,
            st: St::Head(Vec::new(), 0),
            methods: &mut methods,
            labels: Vec::new(),
            chunks: Vec::new(),
        };
        for (d, frame, p) in pieces {
            if *d != dir {
                continue;
            }
            match p {
                WirePiece::Data(b) => side.data(*frame, b),
                WirePiece::Gap(n) => side.gap(*n),
            }
        }
        all.append(&mut side.labels);
        if dir == Dir::Server {
            out.chunks = side.chunks;
        }
    }
    for (frame, l) in all {
        out.labels
            .entry(frame)
            .and_modify(|s| {
                s.push_str(" + ");
                s.push_str(&l);
            })
            .or_insert(l);
    }
    out
}

/// Whether `b` can begin a message: a status line's `HTTP/` for a response, a method (an
/// upper-case token) for a request; line ends before a message are tolerated.
fn can_start(response: bool, b: &[u8]) -> bool {
    match b.first() {
        None | Some(b'\r' | b'\n') => true,
        Some(_) if response => {
            let n = b.len().min(5);
            b.get(..n) == b"HTTP/".get(..n)
        }
        Some(c) => c.is_ascii_uppercase(),
    }
}

/// Position just after the first `pat` in `b`.
fn find(b: &[u8], pat: &[u8]) -> Option<usize> {
    b.windows(pat.len())
        .position(|w| w == pat)
        .map(|i| i + pat.len())
}

impl Side<'_> {
    fn label(&mut self, frame: u64, s: String) {
        // Runs of the same kind in one segment read as one.
        if let Some((f, last)) = self.labels.last_mut()
            && *f == frame
            && let (Some(a), Some(b)) = (body_len(last), body_len(&s))
        {
            *last = format!("body {} B", a + b);
            return;
        }
        self.labels.push((frame, s));
    }

    fn gap(&mut self, n: u64) {
        self.st = match std::mem::replace(&mut self.st, St::Lost) {
            St::Body(left) if left > n => St::Body(left - n),
            St::Body(left) if left == n => St::Head(Vec::new(), 0),
            St::Close => St::Close,
            _ => St::Lost,
        };
    }

    fn data(&mut self, frame: u64, mut b: &[u8]) {
        while !b.is_empty() {
            let used = self.step(frame, b);
            if used == 0 {
                return;
            }
            b = &b[used.min(b.len())..];
        }
    }

    /// Consume a prefix of `b` (frame `frame`); returns its length (0: nothing more to do).
    fn step(&mut self, frame: u64, b: &[u8]) -> usize {
        match &mut self.st {
            St::Lost => 0,
            St::Head(..) => self.head_step(frame, b),
            St::Body(left) => {
                let take = (*left).min(b.len() as u64);
                *left -= take;
                if *left == 0 {
                    self.st = St::Head(Vec::new(), 0);
                }
                self.label(frame, format!("body {take} B"));
                take as usize
            }
            St::Close => {
                self.label(frame, format!("body {} B", b.len()));
                b.len()
            }
            St::Size(_) => self.size_line(frame, b),
            St::Data(left) => {
                let take = (*left).min(b.len() as u64);
                *left -= take;
                if *left == 0 {
                    self.st = St::DataEnd(2);
                }
                self.label(frame, format!("body {take} B"));
                take as usize
            }
            St::DataEnd(n) => {
                let take = usize::from(*n).min(b.len());
                *n -= take as u8;
                if *n == 0 {
                    self.st = St::Size(Vec::new());
                }
                take
            }
            St::Trailer(_) => self.trailer_step(b),
        }
    }

    /// Bytes of a head (or of what should start one), possibly split across segments.
    fn head_step(&mut self, frame: u64, b: &[u8]) -> usize {
        let St::Head(buf, start) = &mut self.st else {
            return 0;
        };
        if buf.is_empty() && !can_start(self.response, b) {
            // Bytes of a message whose head was never captured (a capture begun
            // inside a body): where the next message starts is not known here.
            self.labels.push((frame, "(mid-message)".into()));
            self.st = St::Lost;
            return 0;
        }
        if buf.is_empty() {
            *start = frame;
        } else if *start != frame {
            self.labels.push((frame, "(head cont.)".into()));
        }
        let before = buf.len();
        buf.extend_from_slice(&b[..b.len().min(HEAD_CAP)]);
        match find(buf, b"\r\n\r\n") {
            Some(end) => {
                let head = buf[..end].to_vec();
                let start = *start;
                self.head_done(start, &head);
                end - before
            }
            None if buf.len() > HEAD_CAP => {
                self.st = St::Lost;
                0
            }
            None => b.len(),
        }
    }

    /// The trailer after a chunked body's last chunk, up to its blank line.
    fn trailer_step(&mut self, b: &[u8]) -> usize {
        let St::Trailer(buf) = &mut self.st else {
            return 0;
        };
        let before = buf.len();
        buf.extend_from_slice(b);
        // The blank line: at once (no trailer), or after the trailer fields.
        let end = if buf.starts_with(b"\r\n") {
            Some(2)
        } else {
            find(buf, b"\r\n\r\n")
        };
        match end {
            Some(e) => {
                self.st = St::Head(Vec::new(), 0);
                e - before
            }
            None if buf.len() > HEAD_CAP => {
                self.st = St::Lost;
                0
            }
            None => b.len(),
        }
    }

    /// A chunk-size line, possibly split across segments.
    fn size_line(&mut self, frame: u64, b: &[u8]) -> usize {
        let St::Size(buf) = &mut self.st else {
            return 0;
        };
        let before = buf.len();
        buf.extend_from_slice(&b[..b.len().min(1024)]);
        let Some(end) = find(buf, b"\r\n") else {
            if buf.len() > 1024 {
                self.st = St::Lost;
                return 0;
            }
            return b.len();
        };
        let line = String::from_utf8_lossy(&buf[..end - 2]).to_string();
        let hex = line.split(';').next().unwrap_or("").trim().to_string();
        let Ok(size) = u64::from_str_radix(&hex, 16) else {
            self.st = St::Lost;
            return 0;
        };
        if let Some(c) = self.chunks.last_mut()
            && self.response
        {
            c.push(Chunk { size, frame });
        }
        if size == 0 {
            self.labels.push((frame, "last-chunk".into()));
            self.st = St::Trailer(Vec::new());
        } else {
            let hex = crate::explain::clean(&hex);
            self.labels
                .push((frame, format!("chunk 0x{hex} ({size} B)")));
            self.st = St::Data(size);
        }
        end - before
    }

    /// A whole head (start line to blank line) that began in frame `start`.
    fn head_done(&mut self, start: u64, head: &[u8]) {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        let first = lines.next().unwrap_or("");
        let mut words = first.splitn(3, ' ');
        let (a, b, c) = (
            words.next().unwrap_or(""),
            words.next().unwrap_or(""),
            words.next().unwrap_or(""),
        );
        let (mut chunked, mut length) = (false, None);
        for l in lines {
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            } else if k == "content-length" {
                length = v.parse::<u64>().ok();
            }
        }
        let next_head = St::Head(Vec::new(), 0);
        if !self.response {
            self.methods.push_back(a.to_string());
            let l = format!("{} {}", crate::explain::clean(a), crate::explain::clean(b));
            self.labels.push((start, l));
            self.st = body_state(chunked, length, false).unwrap_or(next_head);
            return;
        }
        let Ok(status) = b.parse::<u16>() else {
            self.st = St::Lost;
            return;
        };
        let label = format!("{status} {} (head)", crate::explain::clean(c));
        self.labels
            .push((start, label.replace("  (head)", " (head)")));
        if (100..200).contains(&status) {
            self.st = if status == 101 { St::Lost } else { next_head };
            return;
        }
        let method = self.methods.pop_front().unwrap_or_default();
        self.chunks.push(Vec::new());
        let bodiless = method == "HEAD" || status == 204 || status == 304;
        self.st = if bodiless {
            next_head
        } else if method == "CONNECT" && (200..300).contains(&status) {
            St::Lost
        } else {
            body_state(chunked, length, true).unwrap_or(next_head)
        };
    }
}

/// The body that follows a head: chunked, of a length, close-delimited (responses), or
/// none (None).
fn body_state(chunked: bool, length: Option<u64>, response: bool) -> Option<St> {
    match (chunked, length) {
        (true, _) => Some(St::Size(Vec::new())),
        (false, Some(0)) => None,
        (false, Some(n)) => Some(St::Body(n)),
        (false, None) if response => Some(St::Close),
        (false, None) => None,
    }
}

/// The byte count of a `body N B` label.
fn body_len(s: &str) -> Option<u64> {
    s.strip_prefix("body ")?.strip_suffix(" B")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use WirePiece::Data;

    #[test]
    fn request_and_content_length_response() {
        let req = b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab";
        let w = wire_http(&[
            (Dir::Client, 4, Data(req)),
            (Dir::Server, 6, Data(head)),
            (Dir::Server, 7, Data(b"cde")),
        ]);
        assert_eq!(w.labels[&4], "GET /x");
        assert_eq!(w.labels[&6], "200 OK (head) + body 2 B");
        assert_eq!(w.labels[&7], "body 3 B");
        assert_eq!(w.chunks, vec![Vec::<Chunk>::new()]);
    }

    /// A capture begun inside a response body: its bytes are no head continued, and the
    /// labels stop for that side instead of guessing.
    #[test]
    fn bytes_of_a_message_whose_head_was_not_captured_are_not_a_head() {
        let tail: Vec<u8> = (0..1448u32).map(|i| (i % 251) as u8 | 0x80).collect();
        let w = wire_http(&[
            (Dir::Server, 1, Data(&tail)),
            (Dir::Server, 2, Data(&tail)),
            (Dir::Client, 3, Data(b"GET /b HTTP/1.1\r\n\r\n")),
        ]);
        assert_eq!(w.labels[&1], "(mid-message)");
        assert!(!w.labels.contains_key(&2), "{:?}", w.labels);
        assert_eq!(w.labels[&3], "GET /b");
        let text = wire_http(&[(Dir::Client, 1, Data(b"1\n2\n3\n"))]);
        assert_eq!(text.labels[&1], "(mid-message)");
    }

    #[test]
    fn chunked_response() {
        let req = b"GET / HTTP/1.1\r\n\r\n";
        let a = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n12\r\n";
        let b = b"0123456789abcdefgh\r\n0\r\n\r\n";
        let w = wire_http(&[
            (Dir::Client, 1, Data(req)),
            (Dir::Server, 2, Data(a)),
            (Dir::Server, 3, Data(b)),
        ]);
        assert_eq!(w.labels[&2], "200 OK (head) + chunk 0x12 (18 B)");
        assert_eq!(w.labels[&3], "body 18 B + last-chunk");
        assert_eq!(
            w.chunks,
            vec![vec![
                Chunk { size: 18, frame: 2 },
                Chunk { size: 0, frame: 3 }
            ]]
        );
    }

    #[test]
    fn head_response_has_no_body_and_a_gap_stops_labels() {
        let w = wire_http(&[
            (
                Dir::Client,
                1,
                Data(b"HEAD / HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"),
            ),
            (
                Dir::Server,
                2,
                Data(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"),
            ),
            (
                Dir::Server,
                3,
                Data(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\n"),
            ),
            (Dir::Server, 4, WirePiece::Gap(2)),
            (Dir::Server, 5, Data(b"zz")),
            (Dir::Server, 6, WirePiece::Gap(2)),
            (Dir::Server, 7, Data(b"HTTP/1.1 200 OK\r\n\r\n")),
        ]);
        assert_eq!(w.labels[&1], "HEAD / + GET /b");
        assert_eq!(w.labels[&2], "200 OK (head)");
        assert_eq!(w.labels[&3], "404 Not Found (head)");
        assert_eq!(w.labels[&5], "body 2 B");
        // The second gap fell between messages: where the next starts is not known.
        assert!(!w.labels.contains_key(&7));
    }
}
