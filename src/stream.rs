//! A connection's two byte streams rebuilt from the capture file, for the TUI's Stream and
//! HTTP tabs: its frames are read again and fed through a fresh TCP engine and HTTP
//! assembler, so gaps, retransmissions and overlaps come out exactly as in the analysis,
//! and the HTTP bodies the analysis does not keep are parsed again.
//!
//! Part of the pipeline: owned data in and out, no terminal types. Captured bytes are
//! escaped here (`crate::escape`) before they become display lines.

use crate::capture::{self, Source};
use crate::decode;
use crate::flow::Dir;
use crate::http::{Exchange, HttpAssembler, HttpConfig};
use crate::pipeline::Connection;
use crate::tcp::reassembly::StreamEvent;
use crate::tcp::{EngineConfig, TcpConn};
use crate::ts::Ts;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

/// A piece of a reassembled stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    Data(Vec<u8>),
    Gap(u64),
}

/// One display line of the stream view.
#[derive(Clone, Debug)]
pub struct StreamLine {
    pub dir: Dir,
    /// The frame whose bytes completed this line (for the playhead).
    pub frame: u64,
    /// Escaped text, or the gap notice.
    pub text: String,
    pub gap: bool,
}

#[derive(Clone, Debug, Default)]
pub struct StreamData {
    pub conn_id: u64,
    pub lines: Vec<StreamLine>,
    pub bytes: [u64; 2],
    /// Stopped at the byte cap.
    pub truncated: bool,
    /// The connection's HTTP exchanges parsed again with their bodies (the analysis run
    /// keeps sizes and hashes only, so opening a big file costs no body memory).
    pub http: Vec<Exchange>,
    /// What HTTP each data segment carries, and each chunked response's chunks (from the
    /// pieces' byte offsets; see `explain::wire`).
    pub wire: crate::explain::WireHttp,
    /// The lines and exchanges are TLS plaintext decrypted with the run's key log (the
    /// lines of a TLS connection are its records otherwise).
    pub decrypted: bool,
    /// A TLS connection's Application Data records (size and frame), for the ladder.
    pub tls_records: Vec<crate::tls::labels::AppRecord>,
}

const WRAP: usize = 200;

/// The record index of a classic pcap file, built once per file and kept (8 bytes a
/// frame), so reading a frame is one seek instead of a read from the start.
pub fn index_of(source: &Source, frame: u64) -> Option<Arc<capture::random::Index>> {
    type Cache = Option<(std::path::PathBuf, Option<Arc<capture::random::Index>>)>;
    static CACHE: Mutex<Cache> = Mutex::new(None);
    let Source::File(path) = source else {
        return None;
    };
    let mut c = CACHE.lock().ok()?;
    if let Some((p, idx)) = c.as_ref()
        && p == path
        // A spool of standard input grows: index it again for frames beyond the index.
        && (idx.as_ref().is_none_or(|i| i.offsets.len() as u64 >= frame)
            || capture::spool::spool_state(path).is_none())
    {
        return idx.clone();
    }
    let idx = capture::random::index(path).map(Arc::new);
    *c = Some((path.clone(), idx.clone()));
    idx
}

/// Rebuild both byte streams of `conn` (at most `cap` bytes kept) by feeding its frames
/// through a fresh TCP engine.
pub fn rebuild_stream(source: &Source, conn: &Connection, cap: u64) -> Result<StreamData, String> {
    if matches!(source, Source::Stdin) {
        return Err("standard input cannot be read again: the stream cannot be rebuilt".into());
    }
    // A decrypted TLS connection shows its plaintext: the TLS layer runs again with the
    // run's key log (`--keylog`, SSLKEYLOGFILE, the capture's secrets).
    let tls = conn.tls_decrypted().then(|| {
        crate::pipeline::TlsReplay::new(crate::tls::keylog::run_keys(), &HttpConfig::default())
    });
    let mut r = Rebuild {
        conn,
        tcp: TcpConn::new(EngineConfig::default()),
        sink: Sink {
            http: HttpAssembler::new(HttpConfig::default()),
            scan: (conn.app == crate::http::AppProto::Tls).then(Default::default),
            tls,
            pieces: Pieces {
                pieces: Vec::new(),
                total: 0,
                cap,
                truncated: false,
            },
        },
        fins: Vec::new(),
    };
    read_frames(source, conn, &mut |p| r.feed(p))?;
    Ok(r.finish())
}

/// Feed `feed` the frames of `conn`: by seeking to each when its packet records are all
/// kept and the file has an index, else by reading the file from the start.
pub(crate) fn read_frames(
    source: &Source,
    conn: &Connection,
    feed: &mut dyn FnMut(&capture::RawPacket<'_>) -> ControlFlow<()>,
) -> Result<(), String> {
    let frames = conn
        .summary
        .as_ref()
        .filter(|s| s.packets_not_kept == 0)
        .and_then(|s| s.packets.as_ref())
        .filter(|p| !p.is_empty());
    let last = frames.and_then(|p| p.iter().map(|r| r.frame).max());
    match (index_of(source, last.unwrap_or(0)), source, frames) {
        (Some(idx), Source::File(path), Some(pk)) => {
            for rec in pk {
                let (ts, orig_len, data) = capture::random::read(path, &idx, rec.frame)?;
                let raw = capture::RawPacket {
                    index: rec.frame,
                    ts,
                    linktype: idx.layout.linktype,
                    orig_len,
                    data: &data,
                };
                if feed(&raw).is_break() {
                    break;
                }
            }
            Ok(())
        }
        // What is in the file now: a spool of standard input is not waited for.
        _ => capture::spool::without_waiting(|| capture::read_source(source, |p| feed(p)))
            .map(|_| ())
            .map_err(|e| e.to_string()),
    }
}

/// What the engine's stream events go to: the HTTP assembler (or, for a decrypted TLS
/// connection, the TLS layer and what it decrypts) and the kept pieces.
struct Sink {
    http: HttpAssembler,
    /// A TLS connection's records, framed from the ciphertext (decrypted or not).
    scan: Option<crate::tls::labels::RecordScan>,
    tls: Option<crate::pipeline::TlsReplay>,
    pieces: Pieces,
}

/// The pieces kept for display, up to the byte cap.
struct Pieces {
    /// (direction, frame, piece); a gap's frame is 0 until [`Rebuild::finish`].
    pieces: Vec<(Dir, u64, Piece)>,
    total: u64,
    cap: u64,
    truncated: bool,
}

impl Pieces {
    fn keep(&mut self, dir: Dir, ev: &StreamEvent<'_>) {
        match *ev {
            StreamEvent::Data { bytes, frame, .. } => {
                if self.total >= self.cap {
                    self.truncated = true;
                    return;
                }
                let take = bytes.len().min((self.cap - self.total) as usize);
                self.total += take as u64;
                self.pieces
                    .push((dir, frame, Piece::Data(bytes[..take].to_vec())));
            }
            StreamEvent::Gap { len, .. } => self.pieces.push((dir, 0, Piece::Gap(len))),
        }
    }
}

impl Sink {
    fn on_event(&mut self, dir: Dir, ev: StreamEvent<'_>) {
        if let Some(s) = self.scan.as_mut() {
            match ev {
                StreamEvent::Data { bytes, frame, .. } => s.push(dir, bytes, frame),
                StreamEvent::Gap { len, .. } => s.gap(dir, len),
            }
        }
        if let Some(t) = self.tls.as_mut() {
            let pieces = &mut self.pieces;
            t.feed(dir, ev, Ts(0), &mut |d, e| pieces.keep(d, e));
            return;
        }
        self.pieces.keep(dir, &ev);
        match ev {
            StreamEvent::Data { bytes, frame, .. } => self.http.push(dir, bytes, frame, Ts(0)),
            StreamEvent::Gap { offset, len } => self.http.gap_at(dir, offset, len),
        }
    }
}

/// One connection being rebuilt.
struct Rebuild<'a> {
    conn: &'a Connection,
    tcp: TcpConn,
    sink: Sink,
    /// FINs that arrived in order: (direction, frame).
    fins: Vec<(Dir, u64)>,
}

impl Rebuild<'_> {
    /// One frame of the file: fed to the engine when it is this connection's.
    fn feed(&mut self, p: &capture::RawPacket<'_>) -> ControlFlow<()> {
        let conn = self.conn;
        if p.index < conn.first_frame {
            return ControlFlow::Continue(());
        }
        if p.index > conn.last_frame {
            return ControlFlow::Break(());
        }
        let dd = decode::decode(p.linktype, p.data, p.orig_len);
        let (Some(ip), Some(seg)) = (dd.ip, dd.tcp.as_ref()) else {
            return ControlFlow::Continue(());
        };
        if seg.partial_header {
            return ControlFlow::Continue(());
        }
        let (src, dst) = crate::flow::endpoints(&ip, seg);
        let dir = if src == conn.client && dst == conn.server {
            Dir::Client
        } else if src == conn.server && dst == conn.client {
            Dir::Server
        } else {
            return ControlFlow::Continue(());
        };
        let sink = &mut self.sink;
        self.tcp
            .on_segment(dir, seg, p.index, p.ts, &mut |d, ev| sink.on_event(d, ev));
        if seg.flags.fin() && self.tcp.fin_in_order(dir) {
            self.fins.push((dir, p.index));
        }
        ControlFlow::Continue(())
    }

    fn finish(mut self) -> StreamData {
        let sink = &mut self.sink;
        self.tcp.finish(&mut |d, ev| sink.on_event(d, ev));
        // Close-delimited bodies end at the FIN; it is fed after the bytes (order within a
        // direction is all that matters to the assembler).
        for (dir, frame) in self.fins {
            self.sink.http.fin(dir, frame, Ts(0));
            if let Some(t) = self.sink.tls.as_mut() {
                t.fin(dir, frame, Ts(0));
            }
        }
        let decrypted = self.sink.tls.is_some();
        let http = match self.sink.tls.take() {
            Some(t) => {
                let pieces = &mut self.sink.pieces;
                t.finish(Ts(0), &mut |d, e| pieces.keep(d, e))
            }
            None => {
                self.sink.http.finish();
                self.sink.http.into_exchanges()
            }
        };
        let mut out = StreamData {
            conn_id: self.conn.id,
            truncated: self.sink.pieces.truncated,
            http,
            decrypted,
            tls_records: self.sink.scan.take().map(|s| s.records).unwrap_or_default(),
            ..Default::default()
        };
        let mut pieces = self.sink.pieces.pieces;
        // Gaps carry no frame: give them the frame of the data before them.
        let mut prev = self.conn.first_frame;
        for x in pieces.iter_mut() {
            if x.1 == 0 {
                x.1 = prev;
            } else {
                prev = x.1;
            }
        }
        // The wire labels follow HTTP/1.x framing: HTTP/2 (frames) and TLS (records) are
        // other framings, labelled by their own layers.
        if self.conn.app == crate::http::AppProto::Http {
            out.wire = wire_of(&pieces);
        }
        push_lines(&mut out, pieces);
        out
    }
}

/// The HTTP each piece carries (labels by frame, chunks).
fn wire_of(pieces: &[(Dir, u64, Piece)]) -> crate::explain::WireHttp {
    use crate::explain::WirePiece;
    let v: Vec<(Dir, u64, WirePiece)> = pieces
        .iter()
        .map(|(d, f, p)| {
            let w = match p {
                Piece::Data(b) => WirePiece::Data(b),
                Piece::Gap(n) => WirePiece::Gap(*n),
            };
            (*d, *f, w)
        })
        .collect();
    crate::explain::wire_http(&v)
}

/// The display lines of the pieces, in order; counts each direction's bytes.
fn push_lines(out: &mut StreamData, pieces: Vec<(Dir, u64, Piece)>) {
    let mut prev_dir: Option<Dir> = None;
    for (dir, frame, piece) in pieces {
        match piece {
            Piece::Gap(n) => {
                out.lines.push(StreamLine {
                    dir,
                    frame,
                    text: format!("[gap: {n} bytes not captured]"),
                    gap: true,
                });
                prev_dir = None;
            }
            Piece::Data(b) => {
                out.bytes[dir.idx()] += b.len() as u64;
                // CRLF line ends read as plain line ends here; a lone CR stays visible.
                let text = escape_raw(&b).replace("\\r\n", "\n");
                let body = text.strip_suffix('\n').unwrap_or(&text);
                for (k, part) in body.split('\n').enumerate() {
                    let append = k == 0 && prev_dir == Some(dir);
                    push_wrapped(&mut out.lines, dir, frame, part, append);
                }
                // A chunk ending in a newline ends its line.
                prev_dir = if text.ends_with('\n') {
                    None
                } else {
                    Some(dir)
                };
            }
        }
    }
}

/// Raw stream bytes for display, byte by byte: printable ASCII as is, line ends kept,
/// every other byte escaped (`\r`, `\t`, `^[` for control characters, `\xNN` from
/// 0x80). Never decoded as UTF-8: in a gzip or binary body, byte pairs that happen to form valid UTF-8 would show as characters
/// that were never sent (CJK, two cells wide), so each byte is one visible unit.
pub fn escape_raw(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for &x in b {
        match x {
            b'\n' => out.push('\n'),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(x)),
            // Control characters as everywhere else in tcpscope (`crate::escape`).
            0x00..=0x1f => {
                out.push('^');
                out.push(char::from(b'@' + x));
            }
            0x7f => out.push_str("^?"),
            _ => out.push_str(&format!("\\x{x:02X}")),
        }
    }
    out
}

/// Add `s` as a new line (or to the end of the last one), wrapping at `WRAP` chars.
fn push_wrapped(lines: &mut Vec<StreamLine>, dir: Dir, frame: u64, s: &str, append: bool) {
    let mut rest: String = s.to_string();
    if append && let Some(last) = lines.last_mut() {
        let room = WRAP.saturating_sub(last.text.chars().count());
        let head: String = rest.chars().take(room).collect();
        let n = head.len();
        last.text.push_str(&head);
        last.frame = frame;
        rest = rest[n..].to_string();
        if rest.is_empty() {
            return;
        }
    }
    loop {
        let head: String = rest.chars().take(WRAP).collect();
        let n = head.len();
        lines.push(StreamLine {
            dir,
            frame,
            text: head,
            gap: false,
        });
        rest = rest[n..].to_string();
        if rest.is_empty() {
            break;
        }
    }
}
