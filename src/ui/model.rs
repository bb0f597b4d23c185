//! What the UI derives once from an analysis run: per-connection row facts for the
//! connections table (sort keys, filter haystack) and a capture-wide timeline of packets
//! for the playhead. Owned data, no terminal types.

use crate::pipeline::{CaptureStats, Connection};
use crate::tcp::PacketRecord;
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

pub use crate::ui::row::{RowInfo, app_name, byte_count, final_states, outcome_name, packet_count};

/// The packets the engine kept for a connection (empty when none were kept).
pub fn packets(c: &Connection) -> &[PacketRecord] {
    c.summary
        .as_ref()
        .and_then(|s| s.packets.as_deref())
        .unwrap_or(&[])
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

/// A finished connection on its way to the UI: its row, HTTP words and the whole record,
/// or, when it was made compact (`ui::compact`), no record and its packet times for the
/// capture timeline. (Boxed: a compact connection in transit costs no room for one.)
pub struct Arrived {
    pub conn: Option<Box<Connection>>,
    pub row: RowInfo,
    pub words: Option<Box<str>>,
    pub ticks: Vec<(u64, Ts)>,
}

impl Arrived {
    /// `c` kept whole.
    pub fn whole(c: Connection) -> Arrived {
        Arrived {
            // Its place among the whole records is set when `Loaded` takes it.
            row: RowInfo::of(&c, 0),
            words: crate::ui::row::http_words(&c),
            ticks: Vec::new(),
            conn: Some(Box::new(c)),
        }
    }
}

/// One packet of the capture on the playhead's timeline.
#[derive(Clone, Copy, Debug)]
pub struct Tick {
    pub frame: u64,
    pub ts: Ts,
    /// Index of the connection in `Loaded::rows`.
    pub conn: u32,
}

/// Everything loaded from a capture: a row for every connection (`rows`, in the order
/// they finished), and the whole records of those not kept compact.
pub struct Loaded {
    pub stats: CaptureStats,
    pub rows: Vec<RowInfo>,
    /// The whole records (`RowInfo::record` indexes them).
    records: Vec<Connection>,
    /// The HTTP words of the rows that have some (row index, words), by row.
    words: Vec<(u32, Box<str>)>,
    /// Every packet of every connection, by frame.
    pub timeline: Vec<Tick>,
    /// Connections kept compact (`ui::compact`).
    pub compact: usize,
    /// The whole analysis of the compact connection opened last (index in `rows`),
    /// made again from the file.
    pub opened: Option<(usize, Box<Connection>)>,
    /// The compact connection whose analysis could not be made again (not retried).
    pub failed: Option<usize>,
}

impl Loaded {
    pub fn new(stats: CaptureStats, conns: Vec<Connection>) -> Loaded {
        let mut d = Loaded {
            stats,
            rows: Vec::new(),
            records: Vec::new(),
            words: Vec::new(),
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
        self.append_arrived(conns.into_iter().map(Arrived::whole).collect());
    }

    /// Add connections, whole or compact, with their table facts.
    pub fn append_arrived(&mut self, conns: Vec<Arrived>) {
        self.rows.reserve(conns.len());
        let old = self.timeline.len();
        for a in conns {
            let i = self.rows.len() as u32;
            let tick = |(frame, ts)| Tick { frame, ts, conn: i };
            let mut row = a.row;
            match a.conn {
                Some(c) => {
                    let p = packets(&c);
                    self.timeline
                        .extend(p.iter().map(|p| (p.frame, p.ts)).map(tick));
                    row.record = self.records.len() as u32;
                    self.records.push(*c);
                }
                None => {
                    self.compact += 1;
                    self.timeline.extend(a.ticks.into_iter().map(tick));
                    row.record = crate::ui::row::NO_RECORD;
                }
            }
            if let Some(w) = a.words {
                self.words.push((i, w));
            }
            self.rows.push(row);
        }
        // The new packets in order, then the whole timeline only when they go before the
        // last one already there (sorting a million ticks each batch would cost time and
        // a buffer of half of them).
        self.timeline[old..].sort_by_key(|t| t.frame);
        let (before, after) = self.timeline.split_at(old);
        if let (Some(a), Some(b)) = (before.last(), after.first())
            && a.frame > b.frame
        {
            self.timeline.sort_by_key(|t| t.frame);
        }
    }

    /// How many connections (rows).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Connection `i` with its whole analysis when there is one: the kept record, or
    /// the one made again from the file when it was opened (None: compact, not opened).
    pub fn conn(&self, i: usize) -> Option<&Connection> {
        match &self.opened {
            Some((j, c)) if *j == i => Some(c),
            _ => self.record(i),
        }
    }

    /// The whole record kept for connection `i` (None when it is compact, opened or not).
    pub fn record(&self, i: usize) -> Option<&Connection> {
        self.records.get(self.rows.get(i)?.record as usize)
    }

    /// The whole records, in row order (a live table: every row has one).
    pub fn into_records(self) -> Vec<Connection> {
        self.records
    }

    /// Whether connection `i` is compact and not opened (its whole analysis is not here).
    pub fn needs_reanalysis(&self, i: usize) -> bool {
        self.rows.get(i).is_some_and(|r| r.compact())
            && self.opened.as_ref().is_none_or(|(j, _)| *j != i)
            && self.failed != Some(i)
    }

    /// The HTTP words of connection `i` the filter matches (lower case).
    pub fn http_words(&self, i: usize) -> Option<&str> {
        let k = self.words.binary_search_by_key(&(i as u32), |w| w.0).ok()?;
        Some(&self.words[k].1)
    }

    /// Lower-case words the filter matches against for connection `i`.
    pub fn haystack(&self, i: usize) -> String {
        let mut hay = self.rows[i].haystack();
        if let Some(w) = self.http_words(i) {
            hay.push_str(w);
        }
        hay
    }

    /// Every whitespace-separated term of `filter` occurs in the haystack of connection `i`.
    pub fn matches(&self, i: usize, filter: &str) -> bool {
        let hay = self.haystack(i);
        filter
            .split_whitespace()
            .all(|t| hay.contains(&t.to_lowercase()))
    }

    /// Compare two connections (by index) on a column.
    pub fn cmp(&self, col: Column, a: usize, b: usize) -> Ordering {
        let (ra, rb) = (&self.rows[a], &self.rows[b]);
        let o = match col {
            Column::Id => ra.id.cmp(&rb.id),
            Column::Client => ra.client.cmp(&rb.client),
            Column::Server => ra.server.cmp(&rb.server),
            Column::App => app_name(ra.app).cmp(app_name(rb.app)),
            Column::ConnState => ra.conn_state().cmp(rb.conn_state()),
            Column::ClientState => ra.finals.0.name().cmp(rb.finals.0.name()),
            Column::ServerState => ra.finals.1.name().cmp(rb.finals.1.name()),
            Column::Handshake => ra.outcome().cmp(rb.outcome()).then(
                ra.irtt_ms()
                    .partial_cmp(&rb.irtt_ms())
                    .unwrap_or(Ordering::Equal),
            ),
            Column::Packets => ra.packets.cmp(&rb.packets),
            Column::Bytes => ra.bytes.cmp(&rb.bytes),
            Column::Http => ra.http.cmp(&rb.http),
            Column::Anomalies => ra.anomalies.cmp(&rb.anomalies),
        };
        o.then(ra.id.cmp(&rb.id))
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
