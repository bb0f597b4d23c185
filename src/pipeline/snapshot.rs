//! Read-only copies of live connections, as of now (the live TUI and `live` reports show
//! connections that have not ended): the engine keeps running; the copies have none.

use super::connection::{live_exchanges, live_h2};
use super::{Analyzer, Connection, H2State, tls};
use crate::flow::Dir;
use crate::http::AppProto;
use crate::tcp::{TcpConn, TcpSummary};

impl Analyzer<'_> {
    /// Read-only copies of the live connections whose last frame is after `after_frame`
    /// (0: all), in id order: states, packets and HTTP exchanges as of now. The engine
    /// keeps running; the copies have no engine (`tcp` is None).
    pub fn snapshot_live(&self, after_frame: u64) -> Vec<Connection> {
        let keep_packets = self.cfg.engine.keep_packets;
        let mut v: Vec<Connection> = self
            .live
            .values()
            .filter(|c| c.last_frame > after_frame)
            .map(|c| copy_now(c, keep_packets))
            .collect();
        v.sort_unstable_by_key(|c| c.id);
        v
    }
}

/// What the engine would summarise if the connection ended now.
fn summary_now(t: &TcpConn, keep_packets: bool) -> TcpSummary {
    let (cl, sv) = (Dir::Client, Dir::Server);
    TcpSummary {
        handshake: t.handshake.clone(),
        states: crate::tcp::States {
            client: t.transitions(cl).to_vec(),
            server: t.transitions(sv).to_vec(),
        },
        final_states: crate::tcp::FinalStates {
            client: t.state(cl),
            server: t.state(sv),
        },
        conn_state: t.conn_state(),
        history: t.history.as_str().to_string(),
        close: t.close(),
        analysis: t.counts(),
        rtt: t.rtt,
        max_bytes_in_flight: crate::tcp::PerDirU64 {
            client: t.max_in_flight(cl),
            server: t.max_in_flight(sv),
        },
        last_window: crate::tcp::PerDirOpt {
            client: t.last_window(cl),
            server: t.last_window(sv),
        },
        throughput_bps: crate::tcp::PerDirF64 {
            client: t.throughput_bps(cl),
            server: t.throughput_bps(sv),
        },
        gaps: t.gaps.clone(),
        packets: keep_packets.then(|| t.packets.clone()),
        packets_not_kept: t.packets_dropped,
    }
}

/// A copy of live connection `c` as it stands.
fn copy_now(c: &Connection, keep_packets: bool) -> Connection {
    let summary = c.tcp.as_ref().map(|t| summary_now(t, keep_packets).into());
    let h = c.http_live.as_ref();
    let app = h.map_or(c.app, |h| h.app());
    let tls = c.tls.as_ref().and_then(|t| t.live.as_ref());
    let tls = tls.filter(|_| app == AppProto::Tls);
    let mut tls = tls.map(|t| t.snapshot());
    let tls_h2 = tls.as_mut().and_then(|t| t.h2.take());
    let http = match &tls {
        Some(t) => t.http.clone(),
        None => h.map_or_else(|| c.http.clone(), |h| h.exchanges().to_vec()),
    };
    Connection {
        id: c.id,
        file: c.file.clone(),
        client: c.client,
        server: c.server,
        role_guessed: c.role_guessed,
        port_reuse_of: c.port_reuse_of,
        evicted: c.evicted,
        first_frame: c.first_frame,
        last_frame: c.last_frame,
        start_ts: c.start_ts,
        end_ts: c.end_ts,
        timestamps_backwards: c.timestamps_backwards,
        packets: c.packets,
        payload_bytes: c.payload_bytes,
        tcp: None,
        summary: summary.or_else(|| c.summary.clone()),
        app: if matches!(c.h2_live.as_deref(), Some(H2State::Live(_))) {
            AppProto::Http2
        } else {
            app
        },
        http: if tls.is_some() {
            http
        } else {
            live_exchanges(c)
        },
        h2_live: match tls_h2 {
            Some(s) => Some(Box::new(H2State::Done(Box::new(s)))),
            None => live_h2(c),
        },
        http_live: None,
        released: true,
        ftp: None,
        tls: tls
            .map(|t| t.info)
            .or_else(|| c.tls_info().cloned())
            .map(|i| {
                Box::new(tls::TlsSlot {
                    info: Some(i),
                    live: None,
                })
            }),
    }
}
