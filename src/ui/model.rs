//! What the UI derives once from an analysis run: per-connection row facts for the
//! connections table (sort keys, filter haystack) and a capture-wide timeline of packets
//! for the playhead. Owned data, no terminal types.

use crate::http::AppProto;
use crate::pipeline::{CaptureStats, Connection};
use crate::tcp::PacketRecord;
use crate::tcp::handshake::Outcome;
use crate::tcp::state::TcpState;
use crate::ts::Ts;
use std::cmp::Ordering;
use std::time::Duration;

/// Sortable columns of the connections table, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Id,
    Client,
    Server,
    App,
    ConnState,
    ClientState,
    ServerState,
    Handshake,
    Packets,
    Bytes,
    Http,
    Anomalies,
}

impl Column {
    pub const ALL: [Column; 12] = [
        Column::Id,
        Column::Client,
        Column::Server,
        Column::App,
        Column::ConnState,
        Column::ClientState,
        Column::ServerState,
        Column::Handshake,
        Column::Packets,
        Column::Bytes,
        Column::Http,
        Column::Anomalies,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Id => "#",
            Column::Client => "client",
            Column::Server => "server",
            Column::App => "app",
            Column::ConnState => "conn",
            Column::ClientState => "client state",
            Column::ServerState => "server state",
            Column::Handshake => "handshake / iRTT",
            Column::Packets => "pkts",
            Column::Bytes => "bytes",
            Column::Http => "http",
            Column::Anomalies => "!",
        }
    }
}

pub fn app_name(a: AppProto) -> &'static str {
    match a {
        AppProto::Http => "http",
        AppProto::Tls => "tls",
        AppProto::Ssh => "ssh",
        AppProto::Smtp => "smtp",
        AppProto::Http2 => "http2",
        AppProto::Ftp => "ftp",
        AppProto::FtpData => "ftp-data",
        AppProto::Unknown => "-",
    }
}

pub fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Complete => "complete",
        Outcome::Refused => "refused",
        Outcome::NoAnswer => "no answer",
        Outcome::SimultaneousOpen => "simultaneous",
        Outcome::NotCaptured => "not captured",
        Outcome::ResetDuringHandshake => "reset",
        Outcome::Incomplete => "incomplete",
    }
}

/// Facts of one connection the table sorts and filters on (kept for every connection,
/// compact ones included: no allocation but the HTTP words).
#[derive(Clone, Debug)]
pub struct RowInfo {
    pub outcome: &'static str,
    pub irtt_ms: Option<f64>,
    pub conn_state: &'static str,
    /// Final (client, server) states.
    pub finals: (TcpState, TcpState),
    /// The connection is kept compact (`ui::compact`): no summary nor packet records
    /// until it is opened.
    pub compact: bool,
    pub http: u32,
    pub anomalies: u32,
    /// The HTTP words the filter matches (methods, URIs, statuses), lower case.
    pub words: Option<Box<str>>,
}

/// The packets the engine kept for a connection (empty when none were kept).
pub fn packets(c: &Connection) -> &[PacketRecord] {
    c.summary
        .as_ref()
        .and_then(|s| s.packets.as_deref())
        .unwrap_or(&[])
}

/// Final (client, server) states.
pub fn final_states(c: &Connection) -> (TcpState, TcpState) {
    c.summary
        .as_ref()
        .map_or((TcpState::Closed, TcpState::Closed), |s| {
            (s.final_states.client, s.final_states.server)
        })
}

/// (client, server) states as of frame `at` (None: the end).
pub fn states_at(c: &Connection, at: Option<u64>) -> (TcpState, TcpState) {
    let Some(at) = at else {
        return final_states(c);
    };
    let p = packets(c);
    if p.is_empty() {
        return final_states(c);
    }
    let n = p.partition_point(|x| x.frame <= at);
    if n == 0 {
        (TcpState::Closed, TcpState::Closed)
    } else {
        p[n - 1].states_after
    }
}

impl RowInfo {
    pub fn new(c: &Connection) -> RowInfo {
        let hs = c.summary.as_ref().map(|s| &s.handshake);
        let anomalies = c
            .summary
            .as_ref()
            .map_or(0, |s| s.analysis.total_anomalies())
            + c.http.iter().map(|x| x.anomalies.len() as u32).sum::<u32>();
        let mut words = String::new();
        for x in &c.http {
            if let Some(r) = &x.request {
                words.push(' ');
                words.push_str(&r.method);
                words.push(' ');
                words.push_str(&r.uri);
            }
            if let Some(r) = &x.response {
                words.push_str(&format!(" {}", r.status));
            }
        }
        RowInfo {
            outcome: hs.map_or("-", |h| outcome_name(h.outcome)),
            irtt_ms: hs.and_then(|h| h.irtt_ms),
            conn_state: c.summary.as_ref().map_or("", |s| s.conn_state),
            finals: final_states(c),
            compact: false,
            http: c.http.len() as u32,
            anomalies,
            words: (!words.is_empty()).then(|| words.to_lowercase().into_boxed_str()),
        }
    }

    /// Lower-case words the filter matches against (made when a filter is applied, so
    /// that a million rows hold no string).
    pub fn haystack(&self, c: &Connection) -> String {
        let (cs, ss) = self.finals;
        let mut hay = format!(
            "{} {} {} {} {} {} {}",
            c.client,
            c.server,
            app_name(c.app),
            self.conn_state,
            cs,
            ss,
            self.outcome
        );
        if self.http > 0 {
            hay.push_str(" http");
        }
        if self.anomalies > 0 {
            hay.push_str(" anomalies anomaly");
        }
        let mut hay = hay.to_lowercase();
        if let Some(w) = &self.words {
            hay.push_str(w);
        }
        hay
    }

    /// Every whitespace-separated term of `filter` occurs in the haystack of `c`.
    pub fn matches(&self, c: &Connection, filter: &str) -> bool {
        let hay = self.haystack(c);
        filter
            .split_whitespace()
            .all(|t| hay.contains(&t.to_lowercase()))
    }
}

/// Packets of a connection (both directions).
pub fn packet_count(c: &Connection) -> u64 {
    c.packets.client + c.packets.server
}

/// Payload bytes of a connection (both directions).
pub fn byte_count(c: &Connection) -> u64 {
    c.payload_bytes.client + c.payload_bytes.server
}

/// A finished connection on its way to the UI, with its table facts and, when it was
/// made compact (`ui::compact`), its packet times for the capture timeline.
pub struct Arrived {
    pub conn: Connection,
    pub row: RowInfo,
    pub ticks: Vec<(u64, Ts)>,
}

/// One packet of the capture on the playhead's timeline.
#[derive(Clone, Copy, Debug)]
pub struct Tick {
    pub frame: u64,
    pub ts: Ts,
    /// Index of the connection in `Loaded::conns`.
    pub conn: u32,
}

/// Everything loaded from a capture.
pub struct Loaded {
    pub stats: CaptureStats,
    pub conns: Vec<Connection>,
    pub rows: Vec<RowInfo>,
    /// Every packet of every connection, by frame.
    pub timeline: Vec<Tick>,
    /// Connections kept compact (`ui::compact`).
    pub compact: usize,
    /// The whole analysis of the compact connection opened last (index in `conns`),
    /// made again from the file.
    pub opened: Option<(usize, Box<Connection>)>,
    /// The compact connection whose analysis could not be made again (not retried).
    pub failed: Option<usize>,
}

impl Loaded {
    pub fn new(stats: CaptureStats, conns: Vec<Connection>) -> Loaded {
        let mut d = Loaded {
            stats,
            conns: Vec::new(),
            rows: Vec::new(),
            timeline: Vec::new(),
            compact: 0,
            opened: None,
            failed: None,
        };
        d.append(conns);
        d
    }

    /// Add connections that finished later (loading fills the table in as it goes).
    pub fn append(&mut self, conns: Vec<Connection>) {
        self.append_arrived(
            conns
                .into_iter()
                .map(|c| Arrived {
                    row: RowInfo::new(&c),
                    conn: c,
                    ticks: Vec::new(),
                })
                .collect(),
        );
    }

    /// Add connections, whole or compact, with their table facts.
    pub fn append_arrived(&mut self, conns: Vec<Arrived>) {
        self.conns.reserve(conns.len());
        self.rows.reserve(conns.len());
        for a in conns {
            let i = self.conns.len() as u32;
            let tick = |(frame, ts)| Tick { frame, ts, conn: i };
            if a.row.compact {
                self.compact += 1;
                self.timeline.extend(a.ticks.into_iter().map(tick));
            } else {
                let p = packets(&a.conn);
                self.timeline
                    .extend(p.iter().map(|p| (p.frame, p.ts)).map(tick));
            }
            self.rows.push(a.row);
            self.conns.push(a.conn);
        }
        self.timeline.sort_by_key(|t| t.frame);
    }

    /// Connection `i` with its whole analysis when there is one: the kept record, or
    /// the one made again from the file when it was opened.
    pub fn conn(&self, i: usize) -> Option<&Connection> {
        match &self.opened {
            Some((j, c)) if *j == i => Some(c),
            _ => self.conns.get(i),
        }
    }

    /// Whether connection `i` is compact and not opened (its whole analysis is not here).
    pub fn needs_reanalysis(&self, i: usize) -> bool {
        self.rows.get(i).is_some_and(|r| r.compact)
            && self.opened.as_ref().is_none_or(|(j, _)| *j != i)
            && self.failed != Some(i)
    }

    /// Compare two connections (by index) on a column.
    pub fn cmp(&self, col: Column, a: usize, b: usize) -> Ordering {
        let (ca, cb) = (&self.conns[a], &self.conns[b]);
        let (ra, rb) = (&self.rows[a], &self.rows[b]);
        let (pa, pb) = (packet_count(ca), packet_count(cb));
        let o = match col {
            Column::Id => ca.id.cmp(&cb.id),
            Column::Client => ca.client.cmp(&cb.client),
            Column::Server => ca.server.cmp(&cb.server),
            Column::App => app_name(ca.app).cmp(app_name(cb.app)),
            Column::ConnState => ra.conn_state.cmp(rb.conn_state),
            Column::ClientState => ra.finals.0.name().cmp(rb.finals.0.name()),
            Column::ServerState => ra.finals.1.name().cmp(rb.finals.1.name()),
            Column::Handshake => ra.outcome.cmp(rb.outcome).then(
                ra.irtt_ms
                    .partial_cmp(&rb.irtt_ms)
                    .unwrap_or(Ordering::Equal),
            ),
            Column::Packets => pa.cmp(&pb),
            Column::Bytes => byte_count(ca).cmp(&byte_count(cb)),
            Column::Http => ra.http.cmp(&rb.http),
            Column::Anomalies => ra.anomalies.cmp(&rb.anomalies),
        };
        o.then(ca.id.cmp(&cb.id))
    }
}

/// The ASCII column of a hex dump: printable bytes as themselves, the rest as `.`.
pub fn ascii_column(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

/// "1.234 ms", "56 µs", "1.20 s".
pub fn fmt_ms(ms: f64) -> String {
    if ms.abs() < 1.0 {
        format!("{:.0} µs", ms * 1000.0)
    } else if ms.abs() < 1000.0 {
        format!("{ms:.3} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// Compact delta for the ladder's time column: "+45µs", "+3.1ms", "+1.02s".
pub fn fmt_delta(ns: i64) -> String {
    let us = ns as f64 / 1000.0;
    if us < 1000.0 {
        format!("+{us:.0}µs")
    } else if us < 1_000_000.0 {
        format!("+{:.1}ms", us / 1000.0)
    } else {
        format!("+{:.2}s", us / 1e6)
    }
}

/// How far loading has got.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    /// Approximate bytes of the file consumed (record headers + captured bytes).
    pub bytes: u64,
    /// File size (None for standard input).
    pub total: Option<u64>,
    pub packets: u64,
    pub elapsed: Duration,
}

impl Progress {
    pub fn ratio(&self) -> Option<f64> {
        self.total
            .filter(|t| *t > 0)
            .map(|t| (self.bytes as f64 / t as f64).clamp(0.0, 1.0))
    }

    pub fn rate_pps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.packets as f64 / s
        } else {
            0.0
        }
    }
}

/// The states an endpoint passes through from `from` to `to`, `to` included: RFC 9293
/// processes a segment's ACK before its FIN, so FIN-WAIT-1 → TIME-WAIT (the ACK of our
/// FIN and the peer's FIN in one segment) goes through FIN-WAIT-2. The ladder and the
/// States tab both tell it so.
pub fn state_path(from: TcpState, to: TcpState) -> Vec<TcpState> {
    match (from, to) {
        (TcpState::FinWait1, TcpState::TimeWait) => vec![TcpState::FinWait2, TcpState::TimeWait],
        _ => vec![to],
    }
}

/// The words that say a connection's HTTP and stream are TLS plaintext decrypted here
/// (`decrypted TLS 1.3 (key log)`): shown in words, so NO_COLOR shows it too.
pub fn decrypted_note(c: &crate::pipeline::Connection) -> Option<String> {
    let t = c.tls_info().filter(|t| t.decrypted)?;
    let from = match t.keys_from {
        Some(crate::tls::KeySource::Dsb) => "capture's secrets",
        _ => "key log",
    };
    Some(format!(
        "decrypted {} ({from})",
        t.version.as_deref().unwrap_or("TLS")
    ))
}
