//! Capture-wide facts: the counters and warnings of the report's `capture` object, and
//! the capture's time order (first and latest time, packets stamped backwards and the
//! warnings that name them).

use crate::capture::linktype_name;
use crate::ts::Ts;
use serde::Serialize;
use std::collections::BTreeMap;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Capture-wide facts for the report's `capture` object.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CaptureStats {
    pub file: String,
    pub linktypes: Vec<String>,
    pub packets: u64,
    pub tcp_packets: u64,
    /// Non-TCP packets by kind.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Packets found inside an encapsulation (MPLS, PPPoE, GRE, IP in IP, VXLAN, Geneve, GTP-U, Teredo),
    /// by the outermost one: their connections are the inner packets'.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub encapsulated: BTreeMap<&'static str, u64>,
    pub truncated_packets: u64,
    /// IP fragments (IPv4 and IPv6 fragments of TCP segments are put back together; the rest are
    /// counted only).
    pub ip_fragments: u64,
    /// TCP segments put back together from IP fragments and analysed.
    #[serde(skip_serializing_if = "is_zero")]
    pub ip_datagrams_reassembled: u64,
    /// Datagrams whose fragments never all came (timed out, crowded out, inconsistent).
    #[serde(skip_serializing_if = "is_zero")]
    pub fragments_given_up: u64,
    /// TCP packets whose header could not be read (bad data offset, too short).
    pub malformed_tcp: u64,
    pub connections: u64,
    /// Connections finished early because `max_connections` were tracked at once.
    pub evicted_connections: u64,
    /// Connections finished during the run because they were closed or idle (packet time).
    pub expired_connections: u64,
    /// Packets of evicted connections seen after their eviction: counted against the
    /// evicted connection (its tuple is remembered), not analysed, no new connection.
    #[serde(skip_serializing_if = "is_zero")]
    pub packets_after_eviction: u64,
    /// Packets of the file the read filter (`-f`) left out: `packets` plus these are
    /// the packets read.
    #[serde(skip_serializing_if = "is_zero")]
    pub packets_filtered_out: u64,
    /// Live capture: packets of a connection already closed and written (a late ACK or
    /// retransmitted FIN in TIME-WAIT), counted against it, not analysed.
    #[serde(skip_serializing_if = "is_zero")]
    pub packets_after_close: u64,
    /// Tuples of finished connections forgotten early because too many were remembered
    /// (a later packet on one starts a new connection).
    #[serde(skip_serializing_if = "is_zero")]
    pub tuples_forgotten: u64,
    /// Live capture: packets captured but not analysed because `--duration` ended
    /// while they were still queued (the analysis was behind the capture).
    #[serde(skip_serializing_if = "is_zero")]
    pub packets_not_analysed: u64,
    /// Live capture only: the most connections tracked at once (memory follows it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_tracked_connections: Option<u64>,
    /// Live capture only: packets the kernel dropped (its buffer was full), from pcap stats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_drops: Option<u64>,
    /// Live capture only: packets the interface or its driver dropped, from pcap stats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_drops: Option<u64>,
    /// The first packet's time (later packets stamped before it do not move it).
    pub first_ts: Option<Ts>,
    /// The latest packet time seen (the maximum, not the last packet's).
    pub last_ts: Option<Ts>,
    /// Packets stamped before an earlier packet of the capture (the clock went back).
    pub timestamps_backwards: u64,
    /// Connection measurements (RTT samples, handshake timings) left out because one
    /// end's time was before the other's or before an earlier packet of the connection.
    pub measurements_skipped: u64,
    pub warnings: Vec<String>,
    /// Several files reported one after another: each file's own facts, in order (the
    /// fields above are their totals).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<CaptureStats>,
    /// First frame of each link type, so the list reads in order of first appearance
    /// however the capture was sharded.
    #[serde(skip)]
    pub(super) linktype_first: BTreeMap<u32, u64>,
}

impl CaptureStats {
    /// Add the facts of another shard of the same capture.
    pub fn merge(&mut self, o: CaptureStats) {
        for (lt, f) in o.linktype_first {
            let e = self.linktype_first.entry(lt).or_insert(f);
            *e = (*e).min(f);
        }
        self.linktypes = self.linktypes_in_order();
        self.packets += o.packets;
        self.tcp_packets += o.tcp_packets;
        for (k, v) in o.encapsulated {
            *self.encapsulated.entry(k).or_insert(0) += v;
        }
        for (k, v) in o.skipped {
            *self.skipped.entry(k).or_insert(0) += v;
        }
        self.truncated_packets += o.truncated_packets;
        self.ip_fragments += o.ip_fragments;
        self.ip_datagrams_reassembled += o.ip_datagrams_reassembled;
        self.fragments_given_up += o.fragments_given_up;
        self.malformed_tcp += o.malformed_tcp;
        self.connections += o.connections;
        self.evicted_connections += o.evicted_connections;
        self.expired_connections += o.expired_connections;
        self.packets_after_eviction += o.packets_after_eviction;
        self.packets_after_close += o.packets_after_close;
        self.packets_filtered_out += o.packets_filtered_out;
        self.tuples_forgotten += o.tuples_forgotten;
        self.packets_not_analysed += o.packets_not_analysed;
        self.measurements_skipped += o.measurements_skipped;
        self.timestamps_backwards += o.timestamps_backwards;
        self.first_ts = match (self.first_ts, o.first_ts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_ts = self.last_ts.max(o.last_ts);
        self.warnings.extend(o.warnings);
    }

    /// Link type names by first frame.
    fn linktypes_in_order(&self) -> Vec<String> {
        let mut v: Vec<(u64, u32)> = self.linktype_first.iter().map(|(&l, &f)| (f, l)).collect();
        v.sort_unstable();
        v.into_iter().map(|(_, l)| linktype_name(l)).collect()
    }
}

/// One packet stamped before an earlier one: its frame, the frame holding the latest
/// time so far, and by how much it is earlier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackStep {
    pub frame: u64,
    pub latest_frame: u64,
    pub by_ns: i64,
}

/// Packets whose time goes backwards, in frame order over the whole capture. Fed every
/// packet by whoever sees them all (the analyzer, or the parallel reader).
#[derive(Clone, Debug, Default)]
pub struct TimeOrder {
    first: Option<Ts>,
    /// Frame and time of the latest-stamped packet so far.
    latest: Option<(u64, Ts)>,
    backwards: u64,
    /// The first few, named in warnings.
    steps: Vec<BackStep>,
}

/// Backward steps named one by one in the capture's warnings; the rest are counted.
const NAMED_BACK_STEPS: usize = 5;

impl TimeOrder {
    pub fn on_packet(&mut self, frame: u64, ts: Ts) {
        self.first.get_or_insert(ts);
        match self.latest {
            Some((lf, lt)) if ts < lt => {
                self.backwards += 1;
                if self.steps.len() < NAMED_BACK_STEPS {
                    self.steps.push(BackStep {
                        frame,
                        latest_frame: lf,
                        by_ns: lt.0.saturating_sub(ts.0),
                    });
                }
            }
            _ => self.latest = Some((frame, ts)),
        }
    }

    pub fn steps(&self) -> &[BackStep] {
        &self.steps
    }

    /// Put the span and counts in `st` (overwriting what shards found on their own).
    pub(super) fn write_counts(&self, st: &mut CaptureStats) {
        st.first_ts = self.first;
        st.last_ts = self.latest.map(|l| l.1);
        st.timestamps_backwards = self.backwards;
    }

    /// The span, counts and warnings, at the end of a run.
    pub fn finish_into(&self, st: &mut CaptureStats) {
        self.write_counts(st);
        for s in &self.steps {
            st.warnings.push(format!(
                "frame {}'s time is {} before frame {}'s: the capture's clock went backwards; durations, RTTs and rates that would span it are left out",
                s.frame,
                crate::ts::human_duration(s.by_ns),
                s.latest_frame
            ));
        }
        let more = self.backwards.saturating_sub(self.steps.len() as u64);
        if more > 0 {
            st.warnings.push(format!(
                "{more} more packets are stamped before an earlier packet ({} in all, capture.timestamps_backwards)",
                self.backwards
            ));
        }
    }
}
