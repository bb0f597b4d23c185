//! Body sink: streaming content decoding (gzip/deflate/br), incremental
//! SHA-256 of the decoded bytes, and bounded retention of the body.
//!
//! Owns: everything after transfer decoding. Must not touch framing, the
//! wire parser or exchange bookkeeping; it reports typed anomalies.

use std::io::{self, Write};

use super::anomaly::Anomaly;
use super::spill::{BodyEnd, BodyWriter};
use super::{Dir, HttpConfig};

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};
use sha2::{Digest, Sha256};

/// Decoded output: counts, hashes and (up to a cap) keeps the bytes, in memory or by
/// handing them to the caller's writer as they come (then nothing is held here).
/// Writing past `decoded_cap` keeps the bytes up to it and fails, so the upstream
/// decoder stops at once.
struct Output {
    hasher: Sha256,
    len: u64,
    decoded_cap: u64,
    store: Option<Vec<u8>>,
    writer: Option<Box<dyn BodyWriter>>,
    /// Bytes kept (stored or handed to the writer).
    kept: usize,
    body_cap: usize,
    truncated: bool,
    over_cap: bool,
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.over_cap {
            return Err(io::Error::other("decoded cap reached"));
        }
        let room = usize::try_from(self.decoded_cap.saturating_sub(self.len)).unwrap_or(usize::MAX);
        let part = buf.get(..room.min(buf.len())).unwrap_or_default();
        self.hasher.update(part);
        self.len += part.len() as u64;
        self.keep(part);
        if part.len() < buf.len() {
            // Stopped exactly at the cap: what came before it is kept (and written).
            self.over_cap = true;
            self.store = None;
            return Err(io::Error::other("decoded cap reached"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Output {
    /// Keep `part` (up to `body_cap` in all): beyond it only count and hash, free what
    /// was stored; a writer keeps the first `body_cap` bytes (the caller decides).
    fn keep(&mut self, part: &[u8]) {
        if self.truncated || (self.store.is_none() && self.writer.is_none()) {
            return;
        }
        let room = self.body_cap.saturating_sub(self.kept);
        if part.len() > room {
            if let (Some(w), Some(head)) = (&mut self.writer, part.get(..room)) {
                w.write(head);
            }
            self.kept += room;
            self.store = None;
            self.truncated = true;
            return;
        }
        if let Some(store) = &mut self.store {
            store.extend_from_slice(part);
        }
        if let Some(w) = &mut self.writer {
            w.write(part);
        }
        self.kept += part.len();
    }
}

/// Boxed because the decoders carry sizeable state and most bodies are
/// identity-encoded.
enum Decoder {
    Identity,
    /// "deflate" is zlib-wrapped per RFC 9110 but some servers send raw
    /// DEFLATE; decide once the first two bytes are known.
    DeflateSniff {
        head: [u8; 2],
        have: usize,
    },
    Gzip(Box<GzDecoder<Output>>),
    Zlib(Box<ZlibDecoder<Output>>),
    Raw(Box<DeflateDecoder<Output>>),
    Brotli(Box<brotli_decompressor::DecompressorWriter<Output>>),
    /// Decoding impossible or abandoned; only wire bytes are counted.
    Off,
}

/// What a finished body looks like.
#[derive(Debug, Default)]
pub(crate) struct BodyOutcome {
    pub wire: u64,
    pub decoded: u64,
    pub sha256: Option<String>,
    pub body: Option<Vec<u8>>,
    pub truncated: bool,
    /// The caller's token for the bytes its writer got (`BodyWriter::finish`).
    pub spill: Option<u64>,
}

pub(crate) struct BodySink {
    wire: u64,
    dec: Decoder,
    /// Output lives here for Identity/DeflateSniff/Off; inside the decoder
    /// otherwise (moved in when the decoder is created).
    out: Option<Output>,
    encoding: Option<String>,
    missing: bool,
    failed: bool,
    bomb_reported: bool,
    pending: Vec<Anomaly>,
    /// No content coding: every delivered byte is a decoded byte, also after a gap.
    identity: bool,
    /// Identity bytes delivered after a gap (not hashed, not kept, but counted).
    after_missing: u64,
}

impl BodySink {
    /// The sink for a message in `dir` under `cfg`: a response's bytes go to the caller's
    /// writer when there is one (a request's are then not kept), else kept in memory when
    /// `keep_bodies`, up to `body_cap`.
    pub(crate) fn for_message(
        content_encoding: Option<&str>,
        decodable: bool,
        cfg: &HttpConfig,
        dir: Dir,
    ) -> Self {
        let writer = match (&cfg.spill, dir) {
            (Some(s), Dir::Server) => Some(s.0.open()),
            _ => None,
        };
        let keep = cfg.keep_bodies && (cfg.spill.is_none() || writer.is_some());
        let mut sink = Self::new(
            content_encoding,
            decodable,
            keep.then_some(cfg.body_cap),
            cfg.decoded_cap,
        );
        if let Some(w) = writer {
            sink.set_writer(w);
        }
        sink
    }

    /// Hand kept bytes to `w` instead of storing them.
    fn set_writer(&mut self, w: Box<dyn BodyWriter>) {
        let out = match &mut self.dec {
            Decoder::Gzip(d) => Some(d.get_mut()),
            Decoder::Zlib(d) => Some(d.get_mut()),
            Decoder::Raw(d) => Some(d.get_mut()),
            Decoder::Brotli(d) => Some(d.get_mut()),
            _ => self.out.as_mut(),
        };
        if let Some(o) = out {
            o.store = None;
            o.writer = Some(w);
        }
    }

    pub(crate) fn new(
        content_encoding: Option<&str>,
        decodable: bool,
        body_cap: Option<usize>,
        decoded_cap: usize,
    ) -> Self {
        let out = Output {
            hasher: Sha256::new(),
            len: 0,
            // Without a content coding, the decoded bytes are the wire bytes: no bomb.
            decoded_cap: match content_encoding {
                None => u64::MAX,
                Some(_) => decoded_cap as u64,
            },
            // Not keeping bodies is not truncating them: no store, nothing cut.
            store: body_cap.map(|_| Vec::new()),
            writer: None,
            kept: 0,
            body_cap: body_cap.unwrap_or(0),
            truncated: false,
            over_cap: false,
        };
        let mut sink = BodySink {
            wire: 0,
            dec: Decoder::Identity,
            out: None,
            encoding: content_encoding.map(str::to_string),
            missing: false,
            failed: false,
            bomb_reported: false,
            pending: Vec::new(),
            identity: decodable && content_encoding.is_none(),
            after_missing: 0,
        };
        if !decodable {
            sink.failed = true;
            sink.dec = Decoder::Off;
            sink.out = Some(out);
            return sink;
        }
        sink.dec = match content_encoding {
            None => {
                sink.out = Some(out);
                Decoder::Identity
            }
            Some("gzip" | "x-gzip") => Decoder::Gzip(Box::new(GzDecoder::new(out))),
            Some("br") => Decoder::Brotli(Box::new(brotli_decompressor::DecompressorWriter::new(
                out, 4096,
            ))),
            Some("deflate") => {
                sink.out = Some(out);
                Decoder::DeflateSniff {
                    head: [0; 2],
                    have: 0,
                }
            }
            Some(other) => {
                sink.pending.push(Anomaly::UnsupportedContentEncoding {
                    coding: other.to_string(),
                });
                sink.failed = true;
                sink.out = Some(out);
                Decoder::Off
            }
        };
        sink
    }

    /// Anomalies discovered since the last call (bomb, decode failure).
    pub(crate) fn take_anomalies(&mut self) -> Vec<Anomaly> {
        std::mem::take(&mut self.pending)
    }

    /// Part of the body was never captured: the hash can no longer be right.
    pub(crate) fn mark_missing(&mut self) {
        self.missing = true;
        // Decoding across a hole would only produce garbage errors.
        self.stop_decoding();
    }

    pub(crate) fn wire(&self) -> u64 {
        self.wire
    }

    fn stop_decoding(&mut self) {
        let dec = std::mem::replace(&mut self.dec, Decoder::Off);
        if self.out.is_none() {
            self.out = match dec {
                Decoder::Gzip(d) => Some(d.into_output()),
                Decoder::Zlib(d) => Some(d.into_output()),
                Decoder::Raw(d) => Some(d.into_output()),
                Decoder::Brotli(mut d) => Some(std::mem::replace(d.get_mut(), Output::empty())),
                _ => None,
            };
        }
    }

    pub(crate) fn write(&mut self, data: &[u8]) {
        self.wire += data.len() as u64;
        if self.missing && self.identity && !self.failed {
            self.after_missing += data.len() as u64;
        }
        if self.failed || self.missing || data.is_empty() {
            return;
        }
        if let Decoder::DeflateSniff { head, have } = &mut self.dec {
            // Buffer at most two bytes to tell zlib (RFC 1950) from raw.
            let mut rest = data;
            while *have < 2 {
                let Some((&b, r)) = rest.split_first() else {
                    return;
                };
                if let Some(slot) = head.get_mut(*have) {
                    *slot = b;
                }
                *have += 1;
                rest = r;
            }
            let [h0, h1] = *head;
            let zlib = h0 & 0x0f == 8 && (u16::from(h0) << 8 | u16::from(h1)) % 31 == 0;
            let Some(out) = self.out.take() else { return };
            self.dec = if zlib {
                Decoder::Zlib(Box::new(ZlibDecoder::new(out)))
            } else {
                Decoder::Raw(Box::new(DeflateDecoder::new(out)))
            };
            let head = [h0, h1];
            self.feed(&head);
            self.feed(rest);
            return;
        }
        self.feed(data);
    }

    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && !self.failed {
            let res = match &mut self.dec {
                Decoder::Identity => match &mut self.out {
                    Some(o) => o.write(data),
                    None => Ok(data.len()),
                },
                Decoder::Gzip(d) => d.write(data),
                Decoder::Zlib(d) => d.write(data),
                Decoder::Raw(d) => d.write(data),
                Decoder::Brotli(d) => d.write(data),
                Decoder::DeflateSniff { .. } | Decoder::Off => return,
            };
            match res {
                // Stream ended; trailing bytes are ignored, not decoded.
                Ok(0) => return,
                Ok(n) => data = data.get(n..).unwrap_or_default(),
                Err(e) => {
                    self.fail(&e);
                    return;
                }
            }
        }
    }

    fn output(&self) -> Option<&Output> {
        match &self.dec {
            Decoder::Gzip(d) => Some(d.get_ref()),
            Decoder::Zlib(d) => Some(d.get_ref()),
            Decoder::Raw(d) => Some(d.get_ref()),
            Decoder::Brotli(d) => Some(d.get_ref()),
            _ => self.out.as_ref(),
        }
    }

    fn fail(&mut self, e: &io::Error) {
        self.failed = true;
        let over = self.output().is_some_and(|o| o.over_cap);
        if over {
            if !self.bomb_reported {
                self.bomb_reported = true;
                let cap = self.output().map_or(0, |o| o.decoded_cap);
                self.pending.push(Anomaly::DecompressionBomb { cap });
            }
        } else {
            let enc = self.encoding.as_deref().unwrap_or("identity");
            self.pending.push(Anomaly::DecodingFailed {
                encoding: enc.to_string(),
                error: e.to_string(),
            });
        }
        self.stop_decoding();
    }

    /// Finish the body. `complete` = every byte of it was seen and framing
    /// ended normally; only then is the hash meaningful.
    pub(crate) fn finish(mut self, complete: bool) -> (BodyOutcome, Vec<Anomaly>) {
        let whole = complete && !self.missing && !self.failed;
        if whole {
            let res = match &mut self.dec {
                Decoder::Gzip(d) => d.try_finish(),
                Decoder::Zlib(d) => d.try_finish(),
                Decoder::Raw(d) => d.try_finish(),
                Decoder::Brotli(d) => d.close(),
                // Fewer than two bytes of "deflate": not a valid stream.
                Decoder::DeflateSniff { have, .. } if *have > 0 => {
                    Err(io::Error::other("truncated deflate stream"))
                }
                _ => Ok(()),
            };
            if let Err(e) = res {
                self.fail(&e);
            }
        }
        let ok = whole && !self.failed;
        self.stop_decoding();
        let wire = self.wire;
        let pending = std::mem::take(&mut self.pending);
        let outcome = match self.out.take() {
            Some(o) => BodyOutcome {
                wire,
                decoded: o.len + self.after_missing,
                sha256: ok.then(|| hex(&o.hasher.finalize())),
                truncated: o.truncated,
                body: if ok { o.store } else { None },
                spill: o.writer.map(|w| {
                    w.finish(BodyEnd {
                        whole: ok,
                        truncated: o.truncated,
                        bomb: o.over_cap,
                        decoded: o.len,
                    })
                }),
            },
            None => BodyOutcome {
                wire,
                ..BodyOutcome::default()
            },
        };
        (outcome, pending)
    }
}

impl Output {
    fn empty() -> Self {
        Output {
            hasher: Sha256::new(),
            len: 0,
            decoded_cap: 0,
            store: None,
            writer: None,
            kept: 0,
            body_cap: 0,
            truncated: false,
            over_cap: true,
        }
    }
}

/// Decoders own their output writer; getting it back must not run the
/// decoder's finishing logic again (which could write past the cap).
trait IntoOutput {
    fn into_output(self) -> Output;
}

impl IntoOutput for Box<GzDecoder<Output>> {
    fn into_output(mut self) -> Output {
        std::mem::replace(self.get_mut(), Output::empty())
    }
}
impl IntoOutput for Box<ZlibDecoder<Output>> {
    fn into_output(mut self) -> Output {
        std::mem::replace(self.get_mut(), Output::empty())
    }
}
impl IntoOutput for Box<DeflateDecoder<Output>> {
    fn into_output(mut self) -> Output {
        std::mem::replace(self.get_mut(), Output::empty())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};

    fn run(enc: Option<&str>, data: &[u8], step: usize, cap: usize) -> (BodyOutcome, Vec<String>) {
        let mut s = BodySink::new(enc, true, Some(1 << 20), cap);
        let mut all = Vec::new();
        for c in data.chunks(step.max(1)) {
            s.write(c);
            all.extend(s.take_anomalies());
        }
        let (o, a) = s.finish(true);
        all.extend(a);
        (o, all.iter().map(Anomaly::to_string).collect())
    }

    #[test]
    fn decoders() {
        let plain = b"hello hello hello hello world".repeat(50);
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&plain).unwrap_or_default();
        let gz = gz.finish().unwrap_or_default();
        let mut zl = ZlibEncoder::new(Vec::new(), Compression::default());
        zl.write_all(&plain).unwrap_or_default();
        let zl = zl.finish().unwrap_or_default();
        let mut raw = DeflateEncoder::new(Vec::new(), Compression::default());
        raw.write_all(&plain).unwrap_or_default();
        let raw = raw.finish().unwrap_or_default();
        let cases: &[(Option<&str>, &[u8])] = &[
            (None, &plain),
            (Some("gzip"), &gz),
            (Some("x-gzip"), &gz),
            (Some("deflate"), &zl),
            (Some("deflate"), &raw),
        ];
        let want = hex(&Sha256::digest(&plain));
        for (enc, data) in cases {
            for step in [1, 7, 100_000] {
                let (o, a) = run(*enc, data, step, 1 << 20);
                assert!(a.is_empty(), "{enc:?} {a:?}");
                assert_eq!(
                    o.sha256.as_deref(),
                    Some(want.as_str()),
                    "{enc:?} step {step}"
                );
                assert_eq!(o.body.as_deref(), Some(&plain[..]));
                assert_eq!(o.wire, data.len() as u64);
            }
        }
    }

    #[test]
    fn corrupt_and_unsupported() {
        let (o, a) = run(Some("gzip"), b"not gzip at all", 4, 1 << 20);
        assert!(o.sha256.is_none());
        assert!(
            a.iter()
                .any(|s| s.starts_with("content decoding failed (gzip)")),
            "{a:?}"
        );
        let (o, a) = run(Some("zstd"), b"abc", 4, 1 << 20);
        assert!(o.sha256.is_none());
        assert_eq!(a, vec!["unsupported content-encoding: zstd".to_string()]);
    }

    /// Without a content coding, decoded bytes are the delivered bytes, a gap or not.
    #[test]
    fn identity_counts_every_delivered_byte_across_a_gap() {
        let mut s = BodySink::new(None, true, Some(1 << 20), 1 << 20);
        s.write(&[b'a'; 14]);
        s.mark_missing();
        s.write(&[b'b'; 42]);
        let (o, _) = s.finish(false);
        assert_eq!((o.wire, o.decoded), (56, 56));
        assert!(o.sha256.is_none() && o.body.is_none());
        let mut s = BodySink::new(Some("gzip"), true, Some(1 << 20), 1 << 20);
        s.mark_missing();
        s.write(&[1; 10]);
        let (o, _) = s.finish(false);
        assert_eq!((o.wire, o.decoded), (10, 0));
    }

    #[test]
    fn body_cap_truncates_but_hashes() {
        let mut s = BodySink::new(None, true, Some(4), 1 << 20);
        s.write(b"abcdefgh");
        let (o, _) = s.finish(true);
        assert!(o.body.is_none());
        assert!(o.truncated);
        assert_eq!(o.decoded, 8);
        assert_eq!(o.sha256, Some(hex(&Sha256::digest(b"abcdefgh"))));
    }
}
