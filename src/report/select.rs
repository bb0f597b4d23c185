//! Connection selection after analysis (`--conn`, `--host`, `--port`, `--app`, `--state`,
//! `--anomalies`): which finished connections a command shows. Pure: it reads the model
//! and nothing else. The options combine with AND; the values of one option with OR
//! (`--port 80,443` is either port).
//!
//! Also the frame matcher that picks a connection's frames out of its capture again
//! (`report -w`, the TUI's `w`): the frames between the connection's first and last, on
//! its two endpoints, carrying TCP: exactly the frames the pipeline counted for it.

use crate::capture::RawPacket;
use crate::pipeline::Connection;
use std::net::IpAddr;

/// The `app` values `--app` accepts (the JSON `app` field's).
pub const APPS: &[&str] = &[
    "http", "tls", "http2", "ssh", "smtp", "ftp", "ftp-data", "unknown",
];
/// Zeek's conn_state names (`--state`).
pub const STATES: &[&str] = &[
    "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH",
];

/// What to keep. Empty lists do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub conns: Vec<u64>,
    pub hosts: Vec<IpAddr>,
    pub ports: Vec<u16>,
    /// Values of [`APPS`].
    pub apps: Vec<String>,
    /// Values of [`STATES`].
    pub states: Vec<String>,
    pub anomalies: bool,
}

impl Selection {
    /// Nothing asked for: every connection is kept.
    pub fn is_all(&self) -> bool {
        *self == Selection::default()
    }

    /// Whether `c` is selected.
    pub fn matches(&self, c: &Connection) -> bool {
        fn any<T>(v: &[T], f: impl Fn(&T) -> bool) -> bool {
            v.is_empty() || v.iter().any(f)
        }
        any(&self.conns, |id| *id == c.id)
            && any(&self.hosts, |h| {
                same_addr(*h, c.client.addr) || same_addr(*h, c.server.addr)
            })
            && any(&self.ports, |p| *p == c.client.port || *p == c.server.port)
            && (self.apps.is_empty() || self.apps.iter().any(|a| app_matches(a, c)))
            && (self.states.is_empty() || self.states.iter().any(|s| s == conn_state(c)))
            && (!self.anomalies || has_anomalies(c))
    }

    /// After the whole capture was seen (`total` connections): the error for a `--conn`
    /// id that names no connection, as `file` calls it.
    pub fn check_ids(&self, total: u64, file: &str) -> Result<(), String> {
        match self.conns.iter().find(|&&id| id == 0 || id > total) {
            None => Ok(()),
            Some(id) if total == 0 => Err(format!(
                "{file} holds no TCP connection, so there is no connection {id}"
            )),
            Some(id) => Err(format!(
                "{file} has no connection {id}: connections are numbered 1 to {total} (`tcpscope report {file}` lists them)"
            )),
        }
    }

    /// The options as typed, for the text report's "selected" line.
    pub fn describe(&self) -> String {
        let list = |v: Vec<String>| v.join(",");
        let mut parts = Vec::new();
        if !self.conns.is_empty() {
            parts.push(format!(
                "--conn {}",
                list(self.conns.iter().map(u64::to_string).collect())
            ));
        }
        if !self.hosts.is_empty() {
            parts.push(format!(
                "--host {}",
                list(self.hosts.iter().map(IpAddr::to_string).collect())
            ));
        }
        if !self.ports.is_empty() {
            parts.push(format!(
                "--port {}",
                list(self.ports.iter().map(u16::to_string).collect())
            ));
        }
        if !self.apps.is_empty() {
            parts.push(format!("--app {}", self.apps.join(",")));
        }
        if !self.states.is_empty() {
            parts.push(format!("--state {}", self.states.join(",")));
        }
        if self.anomalies {
            parts.push("--anomalies".to_string());
        }
        parts.join(" ")
    }
}

/// An IPv4 address also matches its IPv4-mapped IPv6 form (`::ffff:10.0.0.1`).
fn same_addr(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// `--app tls` also matches a TLS connection that was decrypted (the text report's
/// `tls→http`): its `app` is still `tls`. `--app http` matches HTTP in clear only.
fn app_matches(want: &str, c: &Connection) -> bool {
    c.app.name() == want
}

/// The connection's Zeek conn_state (`OTH` for a record without a summary).
pub fn conn_state(c: &Connection) -> &'static str {
    c.summary.as_ref().map_or("OTH", |s| s.conn_state)
}

/// Whether any analysis flag a user should look at fired (`analysis`:
/// `Counts::total_anomalies`).
pub fn has_anomalies(c: &Connection) -> bool {
    c.summary
        .as_ref()
        .is_some_and(|s| s.analysis.total_anomalies() > 0)
}

/// Picks the frames of some connections out of their capture.
#[derive(Clone, Debug, Default)]
pub struct FrameMatcher {
    /// (first frame, last frame, the two endpoints).
    spans: Vec<(u64, u64, crate::flow::FlowKey)>,
}

impl FrameMatcher {
    pub fn new<'a>(conns: impl IntoIterator<Item = &'a Connection>) -> FrameMatcher {
        let mut m = FrameMatcher::default();
        for c in conns {
            m.add(c);
        }
        m
    }

    pub fn add(&mut self, c: &Connection) {
        self.add_span(c.client, c.server, c.first_frame, c.last_frame);
    }

    /// The frames `first..=last` between `a` and `b` (a connection known by its ends).
    pub fn add_span(
        &mut self,
        a: crate::flow::Endpoint,
        b: crate::flow::Endpoint,
        first: u64,
        last: u64,
    ) {
        self.spans
            .push((first, last, crate::flow::FlowKey::new(a, b)));
    }

    /// How many connections it picks the frames of.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The last frame any connection spans (reading can stop after it).
    pub fn last_frame(&self) -> u64 {
        self.spans.iter().map(|s| s.1).max().unwrap_or(0)
    }

    /// Whether the frame belongs to one of the connections.
    pub fn matches(&self, p: &RawPacket<'_>) -> bool {
        let inside = |s: &&(u64, u64, _)| s.0 <= p.index && p.index <= s.1;
        if !self.spans.iter().any(|s| inside(&s)) {
            return false;
        }
        let d = crate::decode::decode(p.linktype, p.data, p.orig_len);
        let (Some(ip), Some(seg)) = (d.ip, d.tcp.as_ref()) else {
            // An IP fragment between a connection's two hosts: it may carry a piece of one
            // of its segments (put back together, analysed as one of its packets).
            return d.ip.is_some_and(|i| {
                i.fragment
                    && self
                        .spans
                        .iter()
                        .any(|s| inside(&s) && s.2.joins(i.src, i.dst))
            });
        };
        let (src, dst) = crate::flow::endpoints(&ip, seg);
        let key = crate::flow::FlowKey::new(src, dst);
        self.spans.iter().any(|s| inside(&s) && s.2 == key)
    }
}
