//! The anomaly list (`e`), like Wireshark's Expert Info: every analysis finding of the
//! open connection (or of the whole capture, from the connections list), TCP's and the
//! HTTP exchanges' anomalies, grouped by severity and kind, with counts; Enter on a line jumps to its frame. Only findings at
//! or before the playhead are listed (no spoilers while stepping). Pure: built from the
//! loaded data, read by the view.

use crate::tcp::analysis::Flag;
use crate::ui::model::{Loaded, packets};

/// Wireshark's expert severities, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Note,
    Chat,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
            Severity::Note => "Note",
            Severity::Chat => "Chat",
        }
    }
}

/// The severity Wireshark gives the expert item of the same name (`tcp.analysis.*`);
/// findings Wireshark has no item for are ranked by what they mean for the data.
pub fn severity(f: Flag) -> Severity {
    use Flag::*;
    match f {
        OverlapConflict | ImpossibleFlags | BufferCapHit => Severity::Error,
        LostSegment | AckUnseen | OutOfOrder | ZeroWindow | WindowFull | RstInWindow
        | RstOutOfWindow | BadWindowScale | AfterClose => Severity::Warning,
        WindowUpdate => Severity::Chat,
        _ => Severity::Note,
    }
}

/// One finding: where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Index of the connection in `Loaded::rows`.
    pub conn: usize,
    pub conn_id: u64,
    pub frame: u64,
    /// `seq=… len=…` of the segment.
    pub what: String,
}

/// What a group gathers: one TCP analysis flag, or one kind of HTTP anomaly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Tcp(Flag),
    Http(&'static str),
}

impl Kind {
    /// The group's heading.
    pub fn label(self) -> String {
        match self {
            Kind::Tcp(f) => f.label().to_string(),
            Kind::Http(k) => format!("HTTP: {k}"),
        }
    }
}

/// The findings of one severity and kind, in frame order.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub severity: Severity,
    pub kind: Kind,
    pub items: Vec<Item>,
}

/// The list's state: its groups (all findings; the playhead filters them when shown) and
/// the selected line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnomalyList {
    pub groups: Vec<Group>,
    /// Whether it spans the whole capture (else one connection).
    pub capture_wide: bool,
    pub sel: usize,
}

/// A line of the list as shown.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry<'a> {
    /// A group's header and how many of its findings are shown.
    Header(&'a Group, usize),
    Item(&'a Item),
}

impl AnomalyList {
    /// The findings of connections `conns` (indices into `d.rows`).
    pub fn build(d: &Loaded, conns: &[usize], capture_wide: bool) -> AnomalyList {
        let mut groups: Vec<Group> = Vec::new();
        let mut add = |kind: Kind, severity: Severity, item: Item| match groups
            .iter_mut()
            .find(|g| g.kind == kind)
        {
            Some(g) => g.items.push(item),
            None => groups.push(Group {
                severity,
                kind,
                items: vec![item],
            }),
        };
        for &ci in conns {
            let Some(c) = d.conn(ci) else { continue };
            for p in packets(c) {
                for f in &p.analysis {
                    let flag = f.flag();
                    let item = Item {
                        conn: ci,
                        conn_id: c.id,
                        frame: p.frame,
                        what: format!("seq={} ack={} len={}", p.seq, p.ack, p.len),
                    };
                    add(Kind::Tcp(flag), severity(flag), item);
                }
            }
            for (k, x) in c.http.iter().enumerate() {
                // Where the exchange shows: its response's head, else its request's.
                let frame = x
                    .response
                    .as_ref()
                    .map(|r| r.frame)
                    .or(x.request.as_ref().map(|r| r.frame));
                let Some(frame) = frame else { continue };
                for a in &x.anomalies {
                    let sev = if a.is_loss() {
                        Severity::Warning
                    } else {
                        Severity::Note
                    };
                    let what = crate::escape::escape(&format!("exchange {}: {a}", k + 1));
                    let item = Item {
                        conn: ci,
                        conn_id: c.id,
                        frame,
                        what,
                    };
                    add(Kind::Http(a.kind()), sev, item);
                }
            }
        }
        for g in &mut groups {
            g.items.sort_by_key(|i| i.frame);
        }
        groups.sort_by(|a, b| {
            (a.severity, std::cmp::Reverse(a.items.len()), a.kind.label()).cmp(&(
                b.severity,
                std::cmp::Reverse(b.items.len()),
                b.kind.label(),
            ))
        });
        AnomalyList {
            groups,
            capture_wide,
            sel: 0,
        }
    }

    /// The lines shown as of `playhead` (None: everything): each group with findings
    /// by then, its header, then its findings.
    pub fn entries(&self, playhead: Option<u64>) -> Vec<Entry<'_>> {
        let shows = |f: u64| playhead.is_none_or(|p| f <= p);
        let mut out = Vec::new();
        for g in &self.groups {
            let n = g.items.iter().filter(|i| shows(i.frame)).count();
            if n == 0 {
                continue;
            }
            out.push(Entry::Header(g, n));
            out.extend(g.items.iter().filter(|i| shows(i.frame)).map(Entry::Item));
        }
        out
    }

    /// The (connection, frame) Enter jumps to on line `sel`: the finding, or a group's
    /// first.
    pub fn target(&self, playhead: Option<u64>) -> Option<(usize, u64)> {
        let e = self.entries(playhead);
        let i = match e.get(self.sel)? {
            Entry::Item(i) => *i,
            Entry::Header(g, _) => g.items.first()?,
        };
        Some((i.conn, i.frame))
    }
}
