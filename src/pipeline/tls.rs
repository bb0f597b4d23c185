//! The pipeline's TLS hook: a connection whose client opens with a TLS record gets a
//! [`TlsSession`]; what it decrypts is routed as a cleartext stream is (`h2::route`: the
//! HTTP/2 preface probe, then HTTP/2 or an HTTP/1.x assembler of its own), so the
//! exchanges of an HTTPS connection, h2 included, are reported as for cleartext.

use super::{H2State, h2};
use crate::flow::Dir;
use crate::http::{Exchange, HttpAssembler, HttpConfig};
use crate::http2::Http2Summary;
use crate::tcp::reassembly::StreamEvent;
use crate::tls::{KeyLog, Plain, TlsInfo, TlsSession};
use crate::ts::Ts;
use std::sync::Arc;

/// A connection's TLS part: the live layer while it runs, its facts once it ended.
#[derive(Debug)]
pub struct TlsSlot {
    pub(super) info: Option<TlsInfo>,
    pub(super) live: Option<TlsLive>,
}

pub(super) fn no_info(s: &Option<Box<TlsSlot>>) -> bool {
    s.as_ref().is_none_or(|s| s.info.is_none())
}

pub(super) fn ser_info<S: serde::Serializer>(
    s: &Option<Box<TlsSlot>>,
    ser: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&s.as_ref().and_then(|s| s.info.as_ref()), ser)
}

#[derive(Debug)]
pub struct TlsLive {
    session: TlsSession,
    /// None with `--no-http`: the plaintext goes nowhere.
    cfg: Option<HttpConfig>,
    /// HTTP/1 over the decrypted bytes (created at the first byte the probe lets through).
    http: Option<Box<HttpAssembler>>,
    /// HTTP/2 over the decrypted bytes: the client preface, as in cleartext (ALPN h2 is
    /// what makes a client send it; the bytes decide, never the ALPN alone).
    h2: H2State,
}

/// Whether a stream event is the start of a client's TLS record stream.
pub(super) fn starts_tls(dir: Dir, ev: &StreamEvent<'_>) -> bool {
    matches!(ev, StreamEvent::Data { offset: 0, bytes: [0x16, ..], .. } if dir == Dir::Client)
}

/// What sees the plaintext besides the parsers (the TUI's rebuilt Stream tab).
pub type Tap<'a> = &'a mut dyn FnMut(Dir, &StreamEvent<'_>);

/// Where the plaintext goes: `tap`, then the same HTTP/2-or-HTTP/1 routing as a cleartext
/// stream.
fn to_app<'a>(
    cfg: &'a Option<HttpConfig>,
    http: &'a mut Option<Box<HttpAssembler>>,
    h2: &'a mut H2State,
    ts: Ts,
    tap: Tap<'a>,
) -> impl FnMut(Dir, Plain<'_>) + 'a {
    move |d, p| {
        let ev = match p {
            Plain::Data { bytes, frame } => StreamEvent::Data {
                bytes,
                frame,
                offset: 0,
            },
            Plain::Gap { offset, len } => StreamEvent::Gap { offset, len },
        };
        tap(d, &ev);
        if let Some(cfg) = cfg.as_ref() {
            h2::route(h2, http, cfg, d, ev, ts);
        }
    }
}

/// A connection's TLS layer run again over its frames, for the TUI's rebuilt streams: the
/// plaintext is parsed (HTTP/1 or HTTP/2, bodies kept as `cfg` says) and handed to a tap.
#[derive(Debug)]
pub struct TlsReplay(TlsLive);

impl TlsReplay {
    pub fn new(keys: Option<Arc<KeyLog>>, cfg: &HttpConfig) -> Self {
        TlsReplay(TlsLive::new(keys, Some(cfg)))
    }

    /// One reassembled event of the TLS byte stream (ciphertext).
    pub fn feed(&mut self, dir: Dir, ev: StreamEvent<'_>, ts: Ts, tap: Tap<'_>) {
        self.0.feed_tapped(dir, ev, ts, tap);
    }

    pub fn fin(&mut self, dir: Dir, frame: u64, ts: Ts) {
        self.0.fin(dir, frame, ts);
    }

    /// The decrypted exchanges (HTTP/1, then HTTP/2 streams).
    pub fn finish(self, ts: Ts, tap: Tap<'_>) -> Vec<Exchange> {
        self.0.finish_tapped(ts, tap).http
    }
}

/// `http2.origin` of HTTP/2 found in decrypted TLS (the preface in the plaintext; ALPN h2).
const ORIGIN: &str = "tls";

/// What a finished TLS layer hands the connection.
pub(super) struct TlsDone {
    pub(super) info: TlsInfo,
    pub(super) http: Vec<Exchange>,
    /// The decrypted stream spoke HTTP/2: its facts (the JSON's `http2`).
    pub(super) h2: Option<Http2Summary>,
}

impl TlsLive {
    pub(super) fn new(keys: Option<Arc<KeyLog>>, http: Option<&HttpConfig>) -> Self {
        TlsLive {
            session: TlsSession::new(keys),
            cfg: http.cloned(),
            http: None,
            h2: H2State::default(),
        }
    }

    pub(super) fn feed(&mut self, dir: Dir, ev: StreamEvent<'_>, ts: Ts) {
        self.feed_tapped(dir, ev, ts, &mut |_, _| {});
    }

    fn feed_tapped(&mut self, dir: Dir, ev: StreamEvent<'_>, ts: Ts, tap: Tap<'_>) {
        match ev {
            StreamEvent::Data { bytes, frame, .. } => self.session.push(
                dir,
                bytes,
                frame,
                &mut to_app(&self.cfg, &mut self.http, &mut self.h2, ts, tap),
            ),
            StreamEvent::Gap { len, .. } => self.session.gap(dir, len),
        }
    }

    /// An in-order FIN of `dir`: the decrypted stream ends there too.
    pub(super) fn fin(&mut self, dir: Dir, frame: u64, ts: Ts) {
        if let Some(h) = self.http.as_mut() {
            h.fin(dir, frame, ts);
        }
    }

    /// The TLS facts, the decrypted exchanges (HTTP/1 then HTTP/2) and the HTTP/2 facts
    /// as of now.
    pub(super) fn snapshot(&self) -> TlsDone {
        let mut http = self
            .http
            .as_ref()
            .map(|h| h.exchanges().to_vec())
            .unwrap_or_default();
        let h2 = match &self.h2 {
            H2State::Live(s) => {
                http.extend_from_slice(s.exchanges());
                let mut sum = s.summary().clone();
                sum.origin = ORIGIN;
                Some(sum)
            }
            _ => None,
        };
        TlsDone {
            info: self.session.info().clone(),
            http,
            h2,
        }
    }

    pub(super) fn finish(self, ts: Ts) -> TlsDone {
        self.finish_tapped(ts, &mut |_, _| {})
    }

    fn finish_tapped(self, ts: Ts, tap: Tap<'_>) -> TlsDone {
        let TlsLive {
            session,
            cfg,
            mut http,
            mut h2,
        } = self;
        let info = session.finish(&mut to_app(&cfg, &mut http, &mut h2, ts, tap));
        // Bytes the preface probe still holds (the connection ended before the client's
        // 24th byte) are HTTP/1's.
        if let (H2State::Held(p), Some(c)) = (&mut h2, cfg.as_ref()) {
            let held = p.take_held();
            h2 = H2State::Off;
            h2::replay(&mut h2, &mut http, c, held);
        }
        let mut ex = http.map_or_else(Vec::new, |mut h| {
            h.finish();
            h.into_exchanges()
        });
        let sum = match h2 {
            H2State::Live(s) => {
                let (e, mut sum) = s.into_parts();
                ex.extend(e);
                sum.origin = ORIGIN;
                Some(sum)
            }
            _ => None,
        };
        TlsDone {
            info,
            http: ex,
            h2: sum,
        }
    }
}
