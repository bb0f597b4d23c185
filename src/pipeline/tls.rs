//! The pipeline's TLS hook: a connection whose client opens with a TLS record gets a
//! [`TlsSession`]; what it decrypts goes to an HTTP/1.x assembler of its own, so the
//! exchanges of an HTTPS connection are reported as for cleartext.

use crate::flow::Dir;
use crate::http::{Exchange, HttpAssembler, HttpConfig};
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
    /// HTTP over the decrypted bytes (None with `--no-http`).
    http: Option<Box<HttpAssembler>>,
}

/// Whether a stream event is the start of a client's TLS record stream.
pub(super) fn starts_tls(dir: Dir, ev: &StreamEvent<'_>) -> bool {
    matches!(ev, StreamEvent::Data { offset: 0, bytes: [0x16, ..], .. } if dir == Dir::Client)
}

fn to_http(http: &mut Option<Box<HttpAssembler>>, ts: Ts) -> impl FnMut(Dir, Plain<'_>) + '_ {
    move |d, p| {
        if let Some(h) = http.as_mut() {
            match p {
                Plain::Data { bytes, frame } => h.push(d, bytes, frame, ts),
                Plain::Gap { offset, len } => h.gap_at(d, offset, len),
            }
        }
    }
}

impl TlsLive {
    pub(super) fn new(keys: Option<Arc<KeyLog>>, http: Option<&HttpConfig>) -> Self {
        TlsLive {
            session: TlsSession::new(keys),
            http: http.map(|c| Box::new(HttpAssembler::new(c.clone()))),
        }
    }

    pub(super) fn feed(&mut self, dir: Dir, ev: StreamEvent<'_>, ts: Ts) {
        match ev {
            StreamEvent::Data { bytes, frame, .. } => {
                self.session
                    .push(dir, bytes, frame, &mut to_http(&mut self.http, ts))
            }
            StreamEvent::Gap { len, .. } => self.session.gap(dir, len),
        }
    }

    /// An in-order FIN of `dir`: the decrypted stream ends there too.
    pub(super) fn fin(&mut self, dir: Dir, frame: u64, ts: Ts) {
        if let Some(h) = self.http.as_mut() {
            h.fin(dir, frame, ts);
        }
    }

    /// The TLS facts and the decrypted HTTP exchanges as of now.
    pub(super) fn snapshot(&self) -> (TlsInfo, Vec<Exchange>) {
        let ex = self.http.as_ref().map(|h| h.exchanges().to_vec());
        (self.session.info().clone(), ex.unwrap_or_default())
    }

    pub(super) fn finish(self, ts: Ts) -> (TlsInfo, Vec<Exchange>) {
        let mut http = self.http;
        let info = self.session.finish(&mut to_http(&mut http, ts));
        let ex = http.map(|mut h| {
            h.finish();
            h.into_exchanges()
        });
        (info, ex.unwrap_or_default())
    }
}
