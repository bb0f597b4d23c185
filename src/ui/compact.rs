//! The file TUI's compact records: beyond a memory budget, a finished connection is kept
//! as its table row alone ([`RowInfo`]: what the table shows, sorts and filters on, and its
//! ends and frames), without its `Connection`; its full analysis is made again from the
//! file's frames when the user opens it ([`reanalyse`]). A flood of 10^6 SYNs then costs
//! about 150 bytes a connection in the UI instead of 2 KB (docs/memory.md).
//!
//! What a compact connection loses until it is opened, said on screen (status line,
//! `COMPACT_NOTE`): its packets in the capture-wide anomaly list, the quiz and capture
//! playback (its row shows its totals once the playhead passes its last frame).

use crate::capture::{self, RawPacket, Source};
use crate::flow::{ConnId, Endpoint};
use crate::http::AppProto;
use crate::pipeline::Config;
use crate::pipeline::{Analyzer, Connection};
use crate::tcp::handshake::Outcome;
use crate::tcp::state::TcpState;
pub use crate::ui::model::Arrived;
use crate::ui::model::{app_name, byte_count, final_states, outcome_name, packet_count, packets};
use std::ops::ControlFlow;

/// The analysis settings the file UI needs: every packet record, one analysis thread.
pub fn ui_config() -> Config {
    // Bodies are not kept: the HTTP tab parses its connection again from the file, with
    // bodies, when it is opened (see `crate::stream::rebuild_stream`).
    let mut cfg = Config::default();
    cfg.engine.keep_packets = true;
    // One worker: with several, each keeps its own tables and the merge holds finished
    // whole records until every worker has passed their frames (on the 10^6-SYN file,
    // 70 MB more at the peak and a spread of 60 MB between runs: docs/memory.md).
    cfg.workers = 1;
    cfg
}

/// Estimated bytes of whole records the file TUI keeps before it keeps compact ones.
pub const FULL_BUDGET: usize = 24 << 20;

/// What the status line says once some connections are kept compact.
/// (The anomaly list, the quiz and capture playback cover whole records only.)
pub const COMPACT_NOTE: &str = "re-read when opened, not in e/quiz/playback";

/// Whole records kept so far against [`FULL_BUDGET`].
#[derive(Debug)]
pub struct Budget {
    left: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { left: FULL_BUDGET }
    }
}

impl Budget {
    pub fn with_bytes(left: usize) -> Budget {
        Budget { left }
    }

    /// `c` as it goes to the UI: whole while the budget lasts, compact after.
    pub fn arrive(&mut self, c: Connection) -> Arrived {
        let cost = full_cost(&c);
        if cost <= self.left {
            self.left -= cost;
            return Arrived::whole(c);
        }
        self.left = 0;
        compact(c)
    }
}

/// Rough heap cost of a whole record (summary, transitions, packet records, exchanges).
fn full_cost(c: &Connection) -> usize {
    1024 + 112 * packets(c).len() + 1024 * c.http.len()
}

/// Keep only what the table needs of `c`: its row, HTTP words and packet times.
pub fn compact(c: Connection) -> Arrived {
    Arrived {
        row: RowInfo::of(&c, NO_RECORD),
        words: http_words(&c),
        ticks: packets(&c).iter().map(|p| (p.frame, p.ts)).collect(),
        conn: None,
    }
}

/// The whole analysis of compact connection `c`, made again from the file: its frames
/// (first to last, on its 4-tuple) through a fresh pipeline. (A TUI shows one capture,
/// so the record names no `file`.)
pub fn reanalyse(source: &Source, c: &RowInfo) -> Result<Connection, String> {
    if matches!(source, Source::Stdin) {
        return Err("standard input cannot be read again".into());
    }
    let mut cfg = ui_config();
    cfg.max_connections = usize::MAX / 4;
    let mut an = Analyzer::new(&c.client.to_string(), cfg);
    let (first, last) = (c.first_frame, c.last_frame);
    let ends = [(c.client, c.server), (c.server, c.client)];
    let mut feed = |p: &RawPacket<'_>| {
        if p.index > last {
            return ControlFlow::Break(());
        }
        if p.index >= first && on_tuple(p, &ends) {
            an.on_packet(p);
        }
        ControlFlow::Continue(())
    };
    capture::spool::without_waiting(|| capture::read_source(source, &mut feed))
        .map_err(|e| e.to_string())?;
    let (_, conns) = an.finish();
    let mut full = conns
        .into_iter()
        .find(|x| x.first_frame == first)
        .ok_or_else(|| format!("connection {} not found again in the file", c.id))?;
    full.id = c.id;
    full.evicted = c.evicted;
    full.port_reuse_of = c.port_reuse_of();
    if c.app == crate::http::AppProto::FtpData {
        full.app = c.app;
        full.http.clear();
    }
    Ok(full)
}

/// What the table keeps of every connection, whole or compact: what it shows, sorts and
/// filters on, and what [`reanalyse`] needs to find a compact one again in the file
/// (120 bytes; the whole record, when kept, is in `Loaded`, see `Loaded::conn`).
/// Frame numbers and counts stay `u64` (a capture may hold more than 2^32 of them); the
/// names are kept as small codes.
#[derive(Clone, Debug)]
pub struct RowInfo {
    pub id: ConnId,
    pub first_frame: u64,
    pub last_frame: u64,
    /// Packets, both directions.
    pub packets: u64,
    /// Payload bytes, both directions.
    pub bytes: u64,
    /// `Connection::port_reuse_of`, [`NONE`] for none.
    port_reuse_of: u64,
    /// The handshake's iRTT in ms, NaN for none.
    irtt_ms: f64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub http: u32,
    pub anomalies: u32,
    /// Index of the whole record in `Loaded`, [`NO_RECORD`] when the connection is compact.
    pub(crate) record: u32,
    pub app: AppProto,
    outcome: Option<Outcome>,
    /// Index in [`CONN_STATES`] (or past it, in the names met later: `extra_name`).
    conn_state: u8,
    /// Final (client, server) states.
    pub finals: (TcpState, TcpState),
    evicted: bool,
}

const NONE: u64 = u64::MAX;
/// `RowInfo::record` of a compact connection.
pub(crate) const NO_RECORD: u32 = u32::MAX;

/// Zeek's `conn_state` names (`tcp::zeek`), "" for a connection without summary: one byte a
/// row instead of a 16-byte `&str`. A name not listed is added to a list of its own.
const CONN_STATES: [&str; 14] = [
    "", "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH",
];

/// Names met that [`CONN_STATES`] does not list (none today), numbered after it.
static EXTRA_NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());

fn state_code(s: &'static str) -> u8 {
    if let Some(i) = CONN_STATES.iter().position(|x| *x == s) {
        return i as u8;
    }
    let mut extra = EXTRA_NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let i = match extra.iter().position(|x| *x == s) {
        Some(i) => i,
        None if CONN_STATES.len() + extra.len() < 255 => {
            extra.push(s);
            extra.len() - 1
        }
        // 240 unknown names: the last one stands for the rest (never reached).
        None => extra.len() - 1,
    };
    (CONN_STATES.len() + i) as u8
}

fn state_name(code: u8) -> &'static str {
    match CONN_STATES.get(usize::from(code)) {
        Some(s) => s,
        None => {
            let extra = EXTRA_NAMES.lock().unwrap_or_else(|e| e.into_inner());
            extra
                .get(usize::from(code) - CONN_STATES.len())
                .copied()
                .unwrap_or("")
        }
    }
}

impl RowInfo {
    /// The row of `c`; `record`: where its whole record is kept ([`NO_RECORD`]: compact).
    pub fn of(c: &Connection, record: u32) -> RowInfo {
        let s = c.summary.as_ref();
        let hs = s.map(|s| &s.handshake);
        let anomalies = s.map_or(0, |s| s.analysis.total_anomalies())
            + c.http.iter().map(|x| x.anomalies.len() as u32).sum::<u32>();
        RowInfo {
            id: c.id,
            first_frame: c.first_frame,
            last_frame: c.last_frame,
            packets: packet_count(c),
            bytes: byte_count(c),
            port_reuse_of: c.port_reuse_of.unwrap_or(NONE),
            irtt_ms: hs.and_then(|h| h.irtt_ms).unwrap_or(f64::NAN),
            client: c.client,
            server: c.server,
            http: c.http.len() as u32,
            anomalies,
            record,
            app: c.app,
            outcome: hs.map(|h| h.outcome),
            conn_state: state_code(s.map_or("", |s| s.conn_state)),
            finals: final_states(c),
            evicted: c.evicted,
        }
    }

    /// The connection is kept compact: no summary nor packet records until it is opened.
    pub fn compact(&self) -> bool {
        self.record == NO_RECORD
    }

    /// The handshake's outcome in words ("-": none seen).
    pub fn outcome(&self) -> &'static str {
        self.outcome.map_or("-", outcome_name)
    }

    pub fn irtt_ms(&self) -> Option<f64> {
        (!self.irtt_ms.is_nan()).then_some(self.irtt_ms)
    }

    /// Zeek's `conn_state` ("" without summary).
    pub fn conn_state(&self) -> &'static str {
        state_name(self.conn_state)
    }

    pub fn evicted(&self) -> bool {
        self.evicted
    }

    pub fn port_reuse_of(&self) -> Option<ConnId> {
        (self.port_reuse_of != NONE).then_some(self.port_reuse_of)
    }

    /// Lower-case words the filter matches against, but the HTTP words (`Loaded` holds
    /// those): made when a filter is applied, so that a million rows hold no string.
    pub fn haystack(&self) -> String {
        let (cs, ss) = self.finals;
        let mut hay = format!(
            "{} {} {} {} {} {} {}",
            self.client,
            self.server,
            app_name(self.app),
            self.conn_state(),
            cs,
            ss,
            self.outcome()
        );
        if self.http > 0 {
            hay.push_str(" http");
        }
        if self.anomalies > 0 {
            hay.push_str(" anomalies anomaly");
        }
        hay.to_lowercase()
    }
}

/// The HTTP words the filter matches in `c` (methods, URIs, statuses), lower case.
pub fn http_words(c: &Connection) -> Option<Box<str>> {
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
    (!words.is_empty()).then(|| words.to_lowercase().into_boxed_str())
}

/// Whether packet `p` is a TCP segment between the two endpoints of `ends`.
fn on_tuple(p: &RawPacket<'_>, ends: &[(crate::flow::Endpoint, crate::flow::Endpoint); 2]) -> bool {
    let d = crate::decode::decode(p.linktype, p.data, p.orig_len);
    let (Some(ip), Some(seg)) = (d.ip, d.tcp.as_ref()) else {
        return false;
    };
    let e = crate::flow::endpoints(&ip, seg);
    ends.contains(&e)
}
