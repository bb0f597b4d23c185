//! Content-based protocol sniffing and "does this look like an HTTP start
//! line" checks used for detection and for resynchronising after gaps.
//!
//! Owns: byte-signature classification only. Must not touch exchange state,
//! buffers or framing; callers decide what to do with the verdict.

use super::anomaly::LineFault;
use super::{AppProto, Dir, Status};

/// Verdict on a byte prefix. `Maybe` means "consistent so far, need more
/// bytes" so that short input is never mistaken for a mismatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Yes,
    Maybe,
    No,
}

/// What the first bytes of a direction say about the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sniff {
    Found(AppProto),
    /// Consistent with a signature so far: more bytes may decide.
    Maybe,
    No,
}

/// Longest method token we consider plausible; real methods are short and a
/// tight limit keeps resync from latching onto body text.
const MAX_METHOD: usize = 24;

/// Sniff the non-HTTP protocols from the first bytes of a direction; for the client,
/// `greeting` holds the server's first bytes (empty otherwise).
/// HTTP itself is recognised by `start_line` because it needs a whole line.
///
/// SMTP and FTP servers both open with `220`: the client's first command tells them
/// apart (`EHLO`/`HELO`/`MAIL` for SMTP, `USER`/`AUTH`/`FEAT`/`SYST` for FTP); a
/// greeting alone decides nothing. `EHLO`/`HELO` are SMTP even without a greeting seen.
pub(crate) fn sniff(dir: Dir, early: &[u8], greeting: &[u8]) -> Sniff {
    // TLS record header: handshake(0x16), major 3, minor 0..=4.
    let tls: &[&[u8]] = &[&[0x16], &[0x16, 0x03]];
    if let [0x16, 0x03, minor, ..] = early {
        if *minor <= 0x04 {
            return Sniff::Found(AppProto::Tls);
        }
    } else if tls.contains(&early) {
        return Sniff::Maybe;
    }
    let mut maybe = prefix_state(early, b"SSH-", false);
    if maybe == Verdict::Yes {
        return Sniff::Found(AppProto::Ssh);
    }
    // The HTTP/2 client preface (RFC 9113 §3.4): its first 8 bytes are enough here.
    if dir == Dir::Client {
        match prefix_state(early, b"PRI * HT", false) {
            Verdict::Yes => return Sniff::Found(AppProto::Http2),
            Verdict::Maybe => maybe = Verdict::Maybe,
            Verdict::No => {}
        }
    }
    let greeted = greeting.starts_with(b"220");
    let commands: &[(&[u8], AppProto, bool)] = &[
        (b"EHLO ", AppProto::Smtp, false),
        (b"HELO ", AppProto::Smtp, false),
        (b"MAIL ", AppProto::Smtp, true),
        (b"USER ", AppProto::Ftp, true),
        (b"AUTH ", AppProto::Ftp, true),
        (b"FEAT\r", AppProto::Ftp, true),
        (b"FEAT\n", AppProto::Ftp, true),
        (b"SYST\r", AppProto::Ftp, true),
        (b"SYST\n", AppProto::Ftp, true),
    ];
    if dir == Dir::Client {
        for &(sig, proto, needs_greeting) in commands {
            if needs_greeting && !greeted {
                continue;
            }
            match prefix_state(early, sig, true) {
                Verdict::Yes => return Sniff::Found(proto),
                Verdict::Maybe => maybe = Verdict::Maybe,
                Verdict::No => {}
            }
        }
    }
    if maybe == Verdict::Maybe || early.is_empty() {
        Sniff::Maybe
    } else {
        Sniff::No
    }
}

fn prefix_state(data: &[u8], sig: &[u8], ignore_case: bool) -> Verdict {
    let n = data.len().min(sig.len());
    let (a, b) = (
        data.get(..n).unwrap_or_default(),
        sig.get(..n).unwrap_or_default(),
    );
    let same = if ignore_case {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    };
    match (same, data.len() >= sig.len()) {
        (false, _) => Verdict::No,
        (true, true) => Verdict::Yes,
        (true, false) => Verdict::Maybe,
    }
}

/// Is `data` (starting at a line start) a plausible request line (client) or
/// status line (server)? Deliberately stricter than httparse: this is what
/// stops body bytes from being parsed as invented messages.
pub(crate) fn start_line(dir: Dir, data: &[u8], max_line: usize) -> Verdict {
    match dir {
        Dir::Client => request_line(data, max_line),
        Dir::Server => status_line(data),
    }
}

/// Bytes of `HTTP/1.x`.
const VERSION_LEN: usize = 8;

/// `HTTP/1.x` prefix check starting at `data` (on Yes, `VERSION_LEN` bytes matched).
fn version(data: &[u8]) -> Verdict {
    const V: &[u8] = b"HTTP/1.";
    for (i, want) in V.iter().enumerate() {
        match data.get(i) {
            None => return Verdict::Maybe,
            Some(b) if b == want => {}
            Some(_) => return Verdict::No,
        }
    }
    match data.get(V.len()) {
        None => Verdict::Maybe,
        Some(b'0' | b'1') => Verdict::Yes,
        Some(_) => Verdict::No,
    }
}

fn status_line(data: &[u8]) -> Verdict {
    let mut i = match version(data) {
        Verdict::Yes => VERSION_LEN,
        v => return v,
    };
    match data.get(i) {
        None => return Verdict::Maybe,
        Some(b' ') => i += 1,
        Some(_) => return Verdict::No,
    }
    for _ in 0..3 {
        match data.get(i) {
            None => return Verdict::Maybe,
            Some(b) if b.is_ascii_digit() => i += 1,
            Some(_) => return Verdict::No,
        }
    }
    match data.get(i) {
        None => Verdict::Maybe,
        Some(b' ' | b'\r' | b'\n') => Verdict::Yes,
        Some(_) => Verdict::No,
    }
}

fn request_line(data: &[u8], max_line: usize) -> Verdict {
    let mut i = 0;
    // Method: upper-case token characters. Lower-case or punctuation is
    // almost always body text.
    loop {
        match data.get(i) {
            None => return Verdict::Maybe,
            Some(b' ') if i > 0 => break,
            Some(b'A'..=b'Z' | b'-' | b'_') if i < MAX_METHOD => i += 1,
            Some(_) => return Verdict::No,
        }
    }
    i += 1;
    let target_start = i;
    // Target: visible bytes (obs-text tolerated) up to the next space.
    loop {
        match data.get(i) {
            None if i < max_line => return Verdict::Maybe,
            None => return Verdict::No,
            Some(b' ') if i > target_start => break,
            Some(&b) if b > 0x20 && b != 0x7f && i < max_line => i += 1,
            Some(_) => return Verdict::No,
        }
    }
    i += 1;
    // Tolerated like Zeek and common servers do: a few extra tokens between the target and
    // the version (`CONNECT host:25 / HTTP/1.0`); the head parser flags them.
    for _ in 0..=MAX_EXTRA_TOKENS {
        let rest = data.get(i..).unwrap_or_default();
        match version(rest) {
            Verdict::Yes => {
                return match rest.get(VERSION_LEN..) {
                    Some([b'\n', ..]) | Some([b'\r', b'\n', ..]) => Verdict::Yes,
                    Some([]) | Some([b'\r']) | None => Verdict::Maybe,
                    Some(_) => Verdict::No,
                };
            }
            Verdict::Maybe => return Verdict::Maybe,
            Verdict::No => {}
        }
        // Not the version: an extra token of visible bytes, then one space.
        let start = i;
        loop {
            match data.get(i) {
                None if i < max_line => return Verdict::Maybe,
                None => return Verdict::No,
                Some(b' ') if i > start => break,
                Some(&b) if b > 0x20 && b != 0x7f && i < max_line => i += 1,
                Some(_) => return Verdict::No,
            }
        }
        i += 1;
    }
    Verdict::No
}

/// A client line that `start_line` refused but that begins like a request (a common
/// method, then a space): why it was refused, when the bytes show it (a byte no request
/// line may hold, or no line end within `max_line`). `None`: not a request line, or not
/// enough bytes yet to say.
pub(crate) fn refused_request(data: &[u8], max_line: usize) -> Option<LineFault> {
    if !RESYNC_METHODS.iter().any(|m| data.starts_with(m)) {
        return None;
    }
    for (i, &b) in data.iter().enumerate().take(max_line) {
        match b {
            b'\n' => return None,
            b'\r' => match data.get(i + 1) {
                Some(b'\n') => return None,
                Some(_) => return Some(LineFault::Byte { byte: b, offset: i }),
                None => return None,
            },
            0..=0x1f | 0x7f => return Some(LineFault::Byte { byte: b, offset: i }),
            _ => {}
        }
    }
    (data.len() >= max_line).then_some(LineFault::TooLong { max: max_line })
}

/// Extra tokens tolerated between a request target and the version.
pub(crate) const MAX_EXTRA_TOKENS: usize = 2;

/// Methods looked for anywhere (not only at line starts) when resynchronising a client
/// stream after a capture gap: a lost head leaves the stream mid-line, and the next
/// request may follow a body that does not end in a line end.
const RESYNC_METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// Which bytes can begin one of `pats`.
const fn first_bytes(pats: &[&[u8]]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < pats.len() {
        t[pats[i][0] as usize] = true;
        i += 1;
    }
    t
}

const CLIENT_FIRSTS: [bool; 256] = first_bytes(RESYNC_METHODS);

/// After a capture gap: the first position in `data` where a start line for `dir`
/// plausibly begins (`HTTP/1.x NNN` for the server, a common method and a request line
/// for the client), at any byte, not only after a line end: `Complete(skip, ())` with the
/// `skip` bytes before it. `Partial(skip)`: none in the first `skip` bytes; the rest may be
/// the beginning of one and must be kept for the next push.
pub(crate) fn find_start(dir: Dir, data: &[u8], max_line: usize) -> Status<()> {
    let pats: &[&[u8]] = match dir {
        Dir::Server => &[b"HTTP/1."],
        Dir::Client => RESYNC_METHODS,
    };
    let mut from = 0;
    while from < data.len() {
        // Megabytes of a body are searched this way: the server's one first byte with
        // memchr, the client's methods' first bytes with a table look-up a byte.
        let tail = data.get(from..).unwrap_or_default();
        let hit = match dir {
            Dir::Server => memchr::memchr(b'H', tail),
            Dir::Client => tail.iter().position(|&b| CLIENT_FIRSTS[usize::from(b)]),
        };
        let Some(i) = hit else { break };
        let p = from + i;
        from = p + 1;
        let rest = data.get(p..).unwrap_or_default();
        let prefix = pats.iter().any(|pat| {
            let n = pat.len().min(rest.len());
            rest.get(..n) == pat.get(..n)
        });
        if !prefix {
            continue;
        }
        match start_line(dir, rest, max_line) {
            Verdict::Yes => return Status::Complete(p, ()),
            // Consistent so far: wait for the rest of the line from here on.
            Verdict::Maybe => return Status::Partial(p),
            Verdict::No => {}
        }
    }
    Status::Partial(data.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resync_finds_start_lines_mid_line() {
        let cases: &[(Dir, &[u8], Status<()>)] = &[
            (
                Dir::Server,
                b"r17HTTP/1.1 200 OK\r\n",
                Status::Complete(3, ()),
            ),
            (
                Dir::Server,
                b"xx HTTP/1.1 is great HTTP/1.0 404\r\n",
                Status::Complete(21, ()),
            ),
            (Dir::Server, b"body HTTP/1", Status::Partial(5)),
            (Dir::Server, b"plain body", Status::Partial(10)),
            (
                Dir::Client,
                b"a=1GET /r/2 HTTP/1.1\r\n",
                Status::Complete(3, ()),
            ),
            (Dir::Client, b"get / HTTP/1.1\r\nPOS", Status::Partial(16)),
        ];
        for (dir, data, want) in cases {
            assert_eq!(find_start(*dir, data, 8192), *want, "{data:?}");
        }
    }

    #[test]
    fn start_lines() {
        let cases: &[(Dir, &[u8], Verdict)] = &[
            (Dir::Client, b"GET / HTTP/1.1\r\n", Verdict::Yes),
            (Dir::Client, b"GET / HTTP/1.0\n", Verdict::Yes),
            (Dir::Client, b"GET / HTTP/1.1\r", Verdict::Maybe),
            (Dir::Client, b"GET / HTTP/1.", Verdict::Maybe),
            (Dir::Client, b"GE", Verdict::Maybe),
            (Dir::Client, b"", Verdict::Maybe),
            (Dir::Client, b"get / HTTP/1.1\r\n", Verdict::No),
            (Dir::Client, b"GET / HTTP/2.0\r\n", Verdict::No),
            (Dir::Client, b"GET  / HTTP/1.1\r\n", Verdict::No),
            (Dir::Client, b"GET / HTTP/1.1 x\r\n", Verdict::No),
            (
                Dir::Client,
                b"CONNECT mail.example:25 / HTTP/1.0\r\n",
                Verdict::Yes,
            ),
            (Dir::Client, b"GET / a b HTTP/1.1\r\n", Verdict::Yes),
            (Dir::Client, b"GET / a b c HTTP/1.1\r\n", Verdict::No),
            (Dir::Client, b"GET / a", Verdict::Maybe),
            (Dir::Client, b"\x00\x01binary", Verdict::No),
            (Dir::Server, b"HTTP/1.1 200 OK\r\n", Verdict::Yes),
            (Dir::Server, b"HTTP/1.1 200\r\n", Verdict::Yes),
            (Dir::Server, b"HTTP/1.1 20", Verdict::Maybe),
            (Dir::Server, b"HTTP/1.1 2x0", Verdict::No),
            (Dir::Server, b"HTTX", Verdict::No),
        ];
        for (dir, data, want) in cases {
            assert_eq!(
                start_line(*dir, data, 8192),
                *want,
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn sniffing() {
        let cases: &[(Dir, &[u8], Sniff)] = &[
            (
                Dir::Client,
                b"\x16\x03\x01\x02\x00",
                Sniff::Found(AppProto::Tls),
            ),
            (Dir::Client, b"\x16\x03", Sniff::Maybe),
            (Dir::Client, b"\x16\x03\x09", Sniff::No),
            (Dir::Server, b"SSH-2.0-OpenSSH", Sniff::Found(AppProto::Ssh)),
            (Dir::Server, b"220 mail ESMTP", Sniff::No),
            (Dir::Client, b"ehlo example", Sniff::Found(AppProto::Smtp)),
            (Dir::Client, b"EHL", Sniff::Maybe),
            (Dir::Client, b"GET / HTTP/1.1", Sniff::No),
            (Dir::Client, b"", Sniff::Maybe),
        ];
        for (dir, data, want) in cases {
            assert_eq!(sniff(*dir, data, b""), *want, "{data:?}");
        }
        let greeted: &[(&[u8], Sniff)] = &[
            (b"USER anonymous\r\n", Sniff::Found(AppProto::Ftp)),
            (b"user x", Sniff::Found(AppProto::Ftp)),
            (b"AUTH TLS\r\n", Sniff::Found(AppProto::Ftp)),
            (b"FEAT\r\n", Sniff::Found(AppProto::Ftp)),
            (b"SYST\n", Sniff::Found(AppProto::Ftp)),
            (b"EHLO me", Sniff::Found(AppProto::Smtp)),
            (b"MAIL FROM:<a@b>", Sniff::Found(AppProto::Smtp)),
            (b"US", Sniff::Maybe),
            (b"FEATURE", Sniff::No),
            (b"QUIT\r\n", Sniff::No),
        ];
        for (data, want) in greeted {
            assert_eq!(sniff(Dir::Client, data, b"220 hi\r\n"), *want, "{data:?}");
        }
        // Without a 220 greeting, an FTP-looking command decides nothing.
        assert_eq!(sniff(Dir::Client, b"USER x\r\n", b""), Sniff::No);
        assert_eq!(sniff(Dir::Client, b"MAIL FROM:<a>", b""), Sniff::No);
    }
}
