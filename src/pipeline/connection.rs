//! One connection's record in the pipeline: its endpoints, counts, TCP engine, and the
//! application readers (HTTP/1, HTTP/2, TLS, FTP) its reassembled bytes feed.
//!
//! Owns: `Connection`, `PerDir`, the hand-off of stream events to the readers.

use super::{H2State, h2, tls};
use crate::capture::RawPacket;

use crate::flow::{ConnId, Dir, Endpoint};
use crate::http::{AppProto, Exchange, HttpAssembler, HttpConfig};
use crate::tcp::reassembly::StreamEvent;
use crate::tcp::{TcpConn, TcpSummary};
use crate::ts::Ts;
use serde::Serialize;

/// Packets and bytes per direction.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PerDir {
    pub client: u64,
    pub server: u64,
}

impl PerDir {
    pub fn add(&mut self, dir: Dir, n: u64) {
        match dir {
            Dir::Client => self.client += n,
            Dir::Server => self.server += n,
        }
    }
}

/// One TCP connection as the report shows it.
#[derive(Debug, Serialize)]
pub struct Connection {
    pub id: ConnId,
    /// The capture it was read from, when several files are reported one after another
    /// (`report a.pcap b.pcap`); absent for one file or `--merge`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Box<str>>,
    pub client: Endpoint,
    pub server: Endpoint,
    pub role_guessed: bool,
    /// A new connection on the 4-tuple of an earlier, closed one (a SYN with a new ISN):
    /// the earlier connection's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_reuse_of: Option<ConnId>,
    /// Finished early because too many connections were tracked at once; its later
    /// packets are counted in `capture.packets_after_eviction`, not analysed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub evicted: bool,
    pub first_frame: u64,
    pub last_frame: u64,
    /// The first packet's time.
    pub start_ts: Ts,
    /// The latest packet time of the connection (a packet stamped earlier does not move it).
    pub end_ts: Ts,
    /// Packets of this connection stamped before an earlier packet of it.
    pub timestamps_backwards: u64,
    pub packets: PerDir,
    pub payload_bytes: PerDir,
    /// The engine while the connection is live; consumed into `summary` when it ends.
    #[serde(skip)]
    pub tcp: Option<Box<TcpConn>>,
    #[serde(flatten)]
    pub summary: Option<Box<TcpSummary>>,
    /// Application protocol detected from the bytes (never from the port).
    pub app: AppProto,
    /// HTTP exchanges, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http: Vec<Exchange>,
    /// HTTP/2 routing (the preface probe, the live session), then the connection's HTTP/2
    /// facts (settings, frames, flow control), serialized as `http2` when it spoke HTTP/2.
    #[serde(
        rename = "http2",
        skip_serializing_if = "h2::no_summary",
        serialize_with = "h2::summary"
    )]
    pub h2_live: Option<Box<H2State>>,
    #[serde(skip)]
    /// Created at the first payload byte: most connections of a SYN flood never need one.
    pub http_live: Option<Box<HttpAssembler>>,
    /// Stream buffers already released (the connection closed).
    #[serde(skip)]
    pub(super) released: bool,
    /// An FTP control connection's reader of announced data endpoints.
    #[serde(skip)]
    pub ftp: Option<Box<crate::ftp::FtpControl>>,
    /// TLS facts (`app` tls); its decrypted exchanges are in `http`.
    /// (One box for both the live layer and the finished facts: `Connection` stays small.)
    #[serde(skip_serializing_if = "tls::no_info", serialize_with = "tls::ser_info")]
    pub(super) tls: Option<Box<tls::TlsSlot>>,
}

impl Connection {
    /// Move the assembler's results into the connection.
    /// One packet of this connection: frames, times, counts.
    pub(super) fn count(
        &mut self,
        dir: Dir,
        seg: &crate::decode::TcpSegment<'_>,
        pkt: &RawPacket<'_>,
    ) {
        self.last_frame = pkt.index;
        if pkt.ts < self.end_ts {
            self.timestamps_backwards += 1;
        }
        self.end_ts = self.end_ts.max(pkt.ts);
        self.packets.add(dir, 1);
        self.payload_bytes.add(dir, u64::from(seg.payload_len));
    }

    /// Run the segment through the engine and its bytes on to the application layer;
    /// whether a FIN or RST was seen (a new SYN on the tuple is a new connection).
    pub(super) fn on_segment(
        &mut self,
        dir: Dir,
        seg: &crate::decode::TcpSegment<'_>,
        pkt: &RawPacket<'_>,
        http_cfg: Option<&HttpConfig>,
        keys: Option<&std::sync::Arc<crate::tls::KeyLog>>,
    ) -> bool {
        let Some(tcp) = self.tcp.as_mut() else {
            return false;
        };
        let ends = (self.client, self.server);
        let ts = pkt.ts;
        let mut app = AppSink {
            http: &mut self.http_live,
            h2: &mut self.h2_live,
            ftp: &mut self.ftp,
            ends,
            tls: &mut self.tls,
            keys,
        };
        tcp.on_segment(dir, seg, pkt.index, ts, &mut |d, ev| {
            feed_app(&mut app, http_cfg, d, ev, ts)
        });
        // A FIN reaches HTTP when it is in order: at its own frame, or later at the
        // frame that fills the hole before it.
        for d in [Dir::Client, Dir::Server] {
            if tcp.take_fin_in_order(d)
                && let Some(h) = self.http_live.as_mut()
            {
                h.fin(d, pkt.index, ts);
                if let Some(t) = self.tls.as_mut().and_then(|t| t.live.as_mut()) {
                    t.fin(d, pkt.index, ts);
                }
            }
        }
        let closing = tcp.is_closing();
        if tcp.is_closed() && !self.released {
            // Over: free the stream buffers now rather than when it expires.
            self.released = true;
            let mut app = AppSink {
                http: &mut self.http_live,
                h2: &mut self.h2_live,
                ftp: &mut self.ftp,
                ends,
                tls: &mut self.tls,
                keys,
            };
            tcp.release(&mut |d, ev| feed_app(&mut app, http_cfg, d, ev, ts));
            self.settle_app(http_cfg);
            self.finish_tls(ts);
        }
        closing
    }

    pub(super) fn set_http(&mut self, mut h: Box<HttpAssembler>) {
        h.finish();
        self.app = h.app();
        self.http = h.into_exchanges();
    }

    /// Move the TLS layer's facts and decrypted exchanges into the connection.
    pub(super) fn finish_tls(&mut self, ts: Ts) {
        if let Some(t) = self.tls.as_mut().and_then(|t| t.live.take()) {
            let done = t.finish(ts);
            if self.app == AppProto::Tls {
                self.http = done.http;
                if let Some(sum) = done.h2 {
                    // `app` stays tls; the `http2` object is the decrypted stream's.
                    self.h2_live = Some(Box::new(H2State::Done(Box::new(sum))));
                }
                self.tls = Some(Box::new(tls::TlsSlot {
                    info: Some(done.info),
                    live: None,
                }));
            } else {
                self.tls = None;
            }
        }
    }

    /// Whether the TLS layer decrypted something (the APP column's `tls→http`).
    pub fn tls_decrypted(&self) -> bool {
        self.tls_info().is_some_and(|t| t.decrypted)
    }

    /// The APP column: the detected protocol, or for a decrypted TLS connection what its
    /// plaintext was (`tls→http`, `tls→h2`: `app` itself stays `tls`). `h2` is HTTP/2's
    /// ALPN name, and keeps the column 8 wide like `tls→http`.
    pub fn app_label(&self) -> &'static str {
        if !self.tls_decrypted() {
            self.app.name()
        } else if matches!(self.h2_live.as_deref(), Some(H2State::Done(_))) {
            "tls→h2"
        } else {
            "tls→http"
        }
    }

    /// The connection's TLS facts (`app` tls), as of its end or of a snapshot.
    pub fn tls_info(&self) -> Option<&crate::tls::TlsInfo> {
        self.tls.as_ref().and_then(|t| t.info.as_ref())
    }

    /// The connection is over for the application readers: bytes a probe still holds go
    /// to HTTP/1, then HTTP/1 and HTTP/2 results move into the connection.
    pub(super) fn settle_app(&mut self, http_cfg: Option<&HttpConfig>) {
        if let (Some(H2State::Held(p)), Some(cfg)) = (self.h2_live.as_deref_mut(), http_cfg) {
            let held = p.take_held();
            let mut off = H2State::Off;
            h2::replay(&mut off, &mut self.http_live, cfg, held);
            self.h2_live = Some(Box::new(off));
        }
        if let Some(h) = self.http_live.take() {
            self.set_http(h);
        }
        if matches!(self.h2_live.as_deref(), Some(H2State::Live(_)))
            && let Some(H2State::Live(s)) = self.h2_live.take().map(|b| *b)
        {
            let (ex, sum) = s.into_parts();
            self.app = AppProto::Http2;
            self.http.extend(ex);
            self.h2_live = Some(Box::new(H2State::Done(Box::new(sum))));
        }
    }
}

/// A connection's application readers, for the engine's stream callback.
pub(super) struct AppSink<'c> {
    pub(super) http: &'c mut Option<Box<HttpAssembler>>,
    pub(super) h2: &'c mut Option<Box<H2State>>,
    pub(super) ftp: &'c mut Option<Box<crate::ftp::FtpControl>>,
    pub(super) ends: (Endpoint, Endpoint),
    pub(super) tls: &'c mut Option<Box<tls::TlsSlot>>,
    pub(super) keys: Option<&'c std::sync::Arc<crate::tls::KeyLog>>,
}

/// Hand reassembled bytes to the HTTP assembler (creating it at the first byte), and,
/// once it has found FTP, to the FTP control reader too.
pub(super) fn feed_app(
    app: &mut AppSink<'_>,
    cfg: Option<&HttpConfig>,
    dir: Dir,
    ev: StreamEvent<'_>,
    ts: Ts,
) {
    let ftp = app.http.as_ref().is_some_and(|h| h.app() == AppProto::Ftp);
    if ftp {
        let f = app.ftp.get_or_insert_with(Default::default);
        match &ev {
            StreamEvent::Data { bytes, frame, .. } => {
                f.push(dir, bytes, *frame, app.ends.0, app.ends.1)
            }
            StreamEvent::Gap { .. } => f.gap(dir),
        }
    }
    let undecided = app
        .http
        .as_ref()
        .is_none_or(|h| h.app() == AppProto::Unknown);
    if app.tls.is_none() && undecided && tls::starts_tls(dir, &ev) {
        *app.tls = Some(Box::new(tls::TlsSlot {
            info: None,
            live: Some(tls::TlsLive::new(app.keys.cloned(), cfg)),
        }));
    }
    if let Some(cfg) = cfg {
        h2::route(
            app.h2.get_or_insert_with(Default::default),
            app.http,
            cfg,
            dir,
            ev,
            ts,
        );
    }
    if let Some(t) = app.tls.as_mut().and_then(|t| t.live.as_mut()) {
        match app.http.as_ref().map_or(AppProto::Unknown, |h| h.app()) {
            AppProto::Tls | AppProto::Unknown => t.feed(dir, ev, ts),
            _ => *app.tls = None,
        }
    }
}

/// A live connection's exchanges so far (HTTP/1 then HTTP/2), for a snapshot.
pub(super) fn live_exchanges(c: &Connection) -> Vec<Exchange> {
    let mut v = c
        .http_live
        .as_ref()
        .map_or_else(|| c.http.clone(), |h| h.exchanges().to_vec());
    if let Some(H2State::Live(s)) = c.h2_live.as_deref() {
        v.extend_from_slice(s.exchanges());
    }
    v
}

pub(super) fn live_h2(c: &Connection) -> Option<Box<H2State>> {
    let sum = match c.h2_live.as_deref() {
        Some(H2State::Live(s)) => s.summary().clone(),
        Some(H2State::Done(s)) => (**s).clone(),
        _ => return None,
    };
    Some(Box::new(H2State::Done(Box::new(sum))))
}
