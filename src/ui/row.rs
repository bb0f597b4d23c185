//! The connections table's row: what the UI keeps of every connection, whole or kept
//! compact (`ui::compact`), and the names it shows for a connection's facts. Owned data,
//! no terminal types.

use crate::flow::{ConnId, Endpoint};
use crate::http::AppProto;
use crate::pipeline::Connection;
use crate::tcp::handshake::Outcome;
use crate::tcp::state::TcpState;

/// The app column: the reports' name, `-` when none was recognised.
pub fn app_name(a: AppProto) -> &'static str {
    match a {
        AppProto::Unknown => "-",
        a => a.name(),
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

/// Final (client, server) states.
pub fn final_states(c: &Connection) -> (TcpState, TcpState) {
    c.summary
        .as_ref()
        .map_or((TcpState::Closed, TcpState::Closed), |s| {
            (s.final_states.client, s.final_states.server)
        })
}

/// Packets of a connection (both directions).
pub fn packet_count(c: &Connection) -> u64 {
    c.packets.client + c.packets.server
}

/// Payload bytes of a connection (both directions).
pub fn byte_count(c: &Connection) -> u64 {
    c.payload_bytes.client + c.payload_bytes.server
}

/// What the table keeps of every connection, whole or compact: what it shows, sorts and
/// filters on, and what `compact::reanalyse` needs to find a compact one again in the file
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
