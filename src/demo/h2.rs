//! The `h2` scenario: HTTP/2 multiplexing inside the `https` scenario's TLS (ALPN `h2`).
//! The client sends four requests on streams 1, 3, 5 and 7 without waiting for any
//! answer; the server answers them interleaved, HEADERS then one DATA frame per stream in
//! turn, each frame its own TLS record (so its own segment on the wire). Frames are built
//! and read by hand from RFC 9113's 9-byte header (`http2::frame`), header blocks with
//! HPACK (`loona-hpack`); no HTTP/2 library.

use super::https::{SERVER_NAME, Tls};
use super::scenarios::{Say, drain};
use crate::http2::frame::{
    ACK, DEFAULT_MAX_FRAME, END_HEADERS, END_STREAM, FrameHeader, FrameType, HEADER_LEN, PREFACE,
    header_fragment,
};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};

/// The four requests: path and how many DATA frames its answer takes.
pub const REQUESTS: [(&str, usize); 4] = [
    ("/index.html", 3),
    ("/style.css", 2),
    ("/app.js", 4),
    ("/data.json", 1),
];

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
/// SETTINGS_ENABLE_PUSH and SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2).
const ENABLE_PUSH: u16 = 2;
const MAX_CONCURRENT_STREAMS: u16 = 3;

/// Part `k` (from 1) of the `n`-part answer for `path`.
pub fn part(path: &str, k: usize, n: usize) -> String {
    format!("{path}: part {k} of {n}, from the tcpscope demo server\n")
}

/// One frame: the 9-byte header (length, type, flags, stream), then the payload.
fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    let mut f = Vec::with_capacity(HEADER_LEN + payload.len());
    f.extend_from_slice(&len[1..]);
    f.extend_from_slice(&[ty, flags]);
    f.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn settings(params: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in params {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    frame(SETTINGS, 0, 0, &p)
}

/// Read one frame (its payload at most the default maximum frame size). `None`: the
/// peer closed.
fn read_frame(s: &mut impl Read) -> io::Result<Option<(FrameHeader, Vec<u8>)>> {
    let mut h = [0u8; HEADER_LEN];
    match s.read(&mut h[..1])? {
        0 => return Ok(None),
        _ => s.read_exact(&mut h[1..])?,
    }
    let h = FrameHeader::parse(&h);
    if h.len > DEFAULT_MAX_FRAME {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too long"));
    }
    let mut p = vec![0u8; h.len as usize];
    s.read_exact(&mut p)?;
    Ok(Some((h, p)))
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// A header block's fields (name, value) as text.
fn decode(
    d: &mut loona_hpack::Decoder<'_>,
    h: &FrameHeader,
    p: &[u8],
) -> io::Result<Vec<(String, String)>> {
    let (block, _) = header_fragment(h, p).ok_or_else(|| bad("bad HEADERS frame"))?;
    let fields = d.decode(block).map_err(|e| bad(&format!("HPACK: {e:?}")))?;
    Ok(fields
        .into_iter()
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(&n).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect())
}

fn field<'a>(f: &'a [(String, String)], name: &str) -> &'a str {
    f.iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Answer a SETTINGS or PING that asks for it.
fn ack(s: &mut impl Write, h: &FrameHeader, p: &[u8]) -> io::Result<()> {
    match h.ty {
        FrameType::Settings if !h.has(ACK) => s.write_all(&frame(SETTINGS, ACK, 0, &[])),
        FrameType::Ping if !h.has(ACK) => s.write_all(&frame(PING, ACK, 0, p)),
        _ => Ok(()),
    }
}

/// The server: the preface, SETTINGS, the four requests, the interleaved answers.
pub fn serve(tls: &Tls, l: TcpListener, say: Say<'_>) -> io::Result<()> {
    let mut t = tls.accept(l, say)?;
    let mut preface = [0u8; 24];
    t.read_exact(&mut preface)?;
    if preface != PREFACE {
        return Err(bad("no HTTP/2 connection preface"));
    }
    t.write_all(&settings(&[(MAX_CONCURRENT_STREAMS, 100)]))?;
    say("server: read the client's connection preface, sent its SETTINGS".into());
    let mut dec = loona_hpack::Decoder::new();
    let mut asked: Vec<(u32, String)> = Vec::new();
    while asked.len() < REQUESTS.len() {
        let Some((h, p)) = read_frame(&mut t)? else {
            return Err(bad("closed before its requests"));
        };
        ack(&mut t, &h, &p)?;
        if h.ty == FrameType::Headers {
            let f = decode(&mut dec, &h, &p)?;
            say(format!(
                "server: stream {}: {} {}",
                h.stream,
                field(&f, ":method"),
                field(&f, ":path")
            ));
            asked.push((h.stream, field(&f, ":path").to_string()));
        }
    }
    answer(&mut t, &asked, say)?;
    // The client's GOAWAY and close_notify, then ours and the FIN.
    while read_frame(&mut t)?.is_some() {}
    t.conn.send_close_notify();
    t.conn.complete_io(&mut t.sock)?;
    say("server: the client said GOAWAY and close_notify; closing too".into());
    Ok(())
}

/// HEADERS for every stream, then round after round one DATA frame for each stream that
/// still has parts: the answers share the connection frame by frame.
fn answer(t: &mut impl Write, asked: &[(u32, String)], say: Say<'_>) -> io::Result<()> {
    let mut enc = loona_hpack::Encoder::new();
    let plan: Vec<(u32, &str, usize)> = asked
        .iter()
        .map(|(id, path)| {
            let n = REQUESTS.iter().find(|r| r.0 == path).map_or(1, |r| r.1);
            (*id, path.as_str(), n)
        })
        .collect();
    for (id, path, n) in &plan {
        let len: usize = (1..=*n).map(|k| part(path, k, *n).len()).sum();
        let len = len.to_string();
        let block = enc.encode([
            (&b":status"[..], &b"200"[..]),
            (b"content-type", b"text/plain"),
            (b"content-length", len.as_bytes()),
            (b"server", b"tcpscope-demo"),
        ]);
        t.write_all(&frame(HEADERS, END_HEADERS, *id, &block))?;
    }
    let rounds = plan.iter().map(|p| p.2).max().unwrap_or(0);
    for k in 1..=rounds {
        for (id, path, n) in plan.iter().filter(|p| p.2 >= k) {
            let flags = if k == *n { END_STREAM } else { 0 };
            t.write_all(&frame(DATA, flags, *id, part(path, k, *n).as_bytes()))?;
        }
    }
    say(format!(
        "server: answered the {} streams interleaved: their HEADERS, then one DATA frame per stream in turn ({rounds} rounds), each frame its own TLS record",
        plan.len()
    ));
    Ok(())
}

/// What the client read of one stream.
#[derive(Default)]
struct Got {
    status: String,
    frames: usize,
    body: Vec<u8>,
    done: bool,
}

/// The client: four requests at once, then every frame until the four answers ended.
pub fn client(tls: &Tls, sock: TcpStream, addr: SocketAddr, say: Say<'_>) -> io::Result<()> {
    let mut t = tls.connect(sock, addr, say)?;
    let mut hello = PREFACE.to_vec();
    hello.extend(settings(&[(ENABLE_PUSH, 0)]));
    t.write_all(&hello)?;
    let mut enc = loona_hpack::Encoder::new();
    let ids: Vec<u32> = (0..REQUESTS.len() as u32).map(|i| 1 + 2 * i).collect();
    for (id, (path, _)) in ids.iter().zip(REQUESTS) {
        let block = enc.encode([
            (&b":method"[..], &b"GET"[..]),
            (b":scheme", b"https"),
            (b":authority", SERVER_NAME.as_bytes()),
            (b":path", path.as_bytes()),
            (b"user-agent", b"tcpscope-demo/1"),
        ]);
        t.write_all(&frame(HEADERS, END_HEADERS | END_STREAM, *id, &block))?;
    }
    say(format!(
        "client: sent the preface, SETTINGS and {} requests on streams {ids:?} without waiting for any answer",
        ids.len()
    ));
    let mut got: Vec<Got> = ids.iter().map(|_| Got::default()).collect();
    let mut dec = loona_hpack::Decoder::new();
    while !got.iter().all(|g| g.done) {
        let Some((h, p)) = read_frame(&mut t)? else {
            return Err(bad("closed before the answers ended"));
        };
        ack(&mut t, &h, &p)?;
        let Some(g) = ids.iter().position(|&i| i == h.stream).map(|i| &mut got[i]) else {
            continue;
        };
        match h.ty {
            FrameType::Headers => g.status = field(&decode(&mut dec, &h, &p)?, ":status").into(),
            FrameType::Data => {
                g.frames += 1;
                g.body.extend_from_slice(&p);
            }
            _ => {}
        }
        g.done |= h.has(END_STREAM) && matches!(h.ty, FrameType::Headers | FrameType::Data);
    }
    for ((id, (path, _)), g) in ids.iter().zip(REQUESTS).zip(&got) {
        say(format!(
            "client: stream {id} {path}: {} in {} DATA frame(s), {} bytes",
            g.status,
            g.frames,
            g.body.len()
        ));
    }
    t.write_all(&frame(GOAWAY, 0, 0, &[0; 8]))?;
    t.conn.send_close_notify();
    t.conn.complete_io(&mut t.sock)?;
    t.sock.shutdown(Shutdown::Write)?;
    say("client: GOAWAY (NO_ERROR), close_notify, FIN".into());
    drain(&mut t).map(drop)
}
