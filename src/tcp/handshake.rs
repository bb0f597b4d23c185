//! The three-way handshake of one connection: SYN, SYN-ACK and the completing ACK, both
//! ISNs, each side's options, iRTT and its two halves, SYN/SYN-ACK retransmissions with
//! their back-off, and how the opening ended.

use crate::decode::TcpOptions;
use crate::ts::Ts;
use serde::Serialize;

/// How the opening of a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// SYN, SYN-ACK and ACK all seen.
    Complete,
    /// The server answered the SYN with a RST.
    Refused,
    /// Only SYN(s): nothing came back.
    NoAnswer,
    /// Both sides sent a SYN without ACK.
    SimultaneousOpen,
    /// The capture began after the handshake.
    NotCaptured,
    /// A RST ended the opening after the SYN-ACK (or from the client).
    ResetDuringHandshake,
    /// SYN and SYN-ACK seen but the completing ACK never was.
    Incomplete,
}

impl Outcome {
    /// The name reports use: the same as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::Refused => "refused",
            Outcome::NoAnswer => "no_answer",
            Outcome::SimultaneousOpen => "simultaneous_open",
            Outcome::NotCaptured => "not_captured",
            Outcome::ResetDuringHandshake => "reset_during_handshake",
            Outcome::Incomplete => "incomplete",
        }
    }
}

/// Options one side offered in its SYN or SYN-ACK.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SideOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    pub timestamps: bool,
    /// The snapshot length cut the option list: only the options above were captured.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub options_truncated: bool,
}

impl SideOptions {
    pub fn from(o: &TcpOptions) -> Self {
        SideOptions {
            mss: o.mss,
            wscale: o.wscale,
            sack_perm: o.sack_perm,
            timestamps: o.timestamps.is_some(),
            options_truncated: o.truncated,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Options {
    pub client: Option<SideOptions>,
    pub server: Option<SideOptions>,
}

/// One (re)transmission of a SYN or SYN-ACK.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Attempt {
    pub frame: u64,
    pub ts: Ts,
    /// Time since the previous attempt (the back-off), in ms.
    pub backoff_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Handshake {
    pub outcome: Outcome,
    pub syn_frame: Option<u64>,
    pub syn_ack_frame: Option<u64>,
    pub ack_frame: Option<u64>,
    pub syn_retransmissions: u32,
    pub syn_ack_retransmissions: u32,
    /// SYN (the last one sent) to the ACK that completes the handshake, as seen here.
    pub irtt_ms: Option<f64>,
    /// SYN to SYN-ACK: the server side of the iRTT as seen from the capture point.
    pub syn_to_syn_ack_ms: Option<f64>,
    /// SYN-ACK to ACK: the client side of the iRTT.
    pub syn_ack_to_ack_ms: Option<f64>,
    /// A refusal: the (last) SYN to the RST that refused it. Not an iRTT: there was no
    /// handshake to time (`irtt_ms` stays null), but the round trip is a fact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syn_to_rst_ms: Option<f64>,
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    pub options: Options,
    pub syns: Vec<Attempt>,
    pub syn_acks: Vec<Attempt>,
    /// Payload bytes carried on the SYN (TCP Fast Open).
    pub syn_data_bytes: u32,
    /// Timings (`syn_to_syn_ack_ms`, `syn_ack_to_ack_ms`, `irtt_ms`, `backoff_ms`) left
    /// out because one of their packets was stamped before an earlier handshake packet.
    pub timings_skipped: u32,
    /// The latest time of a handshake packet so far (when `stamps.latest`). The three
    /// times are `Ts` with their "set" flags in `stamps`, where three `Option<Ts>` took
    /// 24 bytes more (docs/memory.md).
    #[serde(skip)]
    latest_ts: Ts,
    #[serde(skip)]
    stamps: Stamps,
    /// The last SYN's and SYN-ACK's times are in order (not before an earlier packet).
    #[serde(skip)]
    last_syn_in_time: bool,
    #[serde(skip)]
    last_syn_ack_in_time: bool,
    /// The last SYN's and SYN-ACK's times (when `stamps.syn`, `stamps.syn_ack`).
    #[serde(skip)]
    last_syn_ts: Ts,
    #[serde(skip)]
    last_syn_ack_ts: Ts,
    #[serde(skip)]
    pub(crate) server_syn_without_ack: bool,
    /// A RST ended the opening (before the handshake completed).
    #[serde(skip)]
    pub(crate) rst_seen: bool,
}

/// Which of a handshake's private times are set.
#[derive(Clone, Copy, Debug, Default)]
struct Stamps {
    latest: bool,
    syn: bool,
    syn_ack: bool,
}

impl Default for Handshake {
    fn default() -> Self {
        Handshake {
            outcome: Outcome::NotCaptured,
            syn_frame: None,
            syn_ack_frame: None,
            ack_frame: None,
            syn_retransmissions: 0,
            syn_ack_retransmissions: 0,
            irtt_ms: None,
            syn_to_rst_ms: None,
            syn_to_syn_ack_ms: None,
            syn_ack_to_ack_ms: None,
            client_isn: None,
            server_isn: None,
            options: Options::default(),
            syns: Vec::new(),
            syn_acks: Vec::new(),
            syn_data_bytes: 0,
            timings_skipped: 0,
            latest_ts: Ts(0),
            stamps: Stamps::default(),
            last_syn_in_time: false,
            last_syn_ack_in_time: false,
            last_syn_ts: Ts(0),
            last_syn_ack_ts: Ts(0),
            server_syn_without_ack: false,
            rst_seen: false,
        }
    }
}

/// At most this many (re)transmissions are listed; the counters go on.
const MAX_ATTEMPTS: usize = 16;

/// Push an attempt; its back-off from the previous one is left out (and counted in
/// `skipped`) when either was stamped out of order.
fn push_attempt(
    v: &mut Vec<Attempt>,
    frame: u64,
    ts: Ts,
    prev_in_time: bool,
    in_time: bool,
    skipped: &mut u32,
) {
    if v.len() < MAX_ATTEMPTS {
        let backoff_ms = v.last().and_then(|p| {
            let t = span(p.ts, prev_in_time, ts, in_time);
            *skipped += u32::from(t.is_none());
            t
        });
        // Most handshakes send one SYN and one SYN-ACK: room for one, not Vec's four
        // (docs/memory.md: 96 bytes per list per tracked connection).
        if v.capacity() == 0 {
            v.reserve_exact(1);
        }
        v.push(Attempt {
            frame,
            ts,
            backoff_ms,
        });
    }
}

/// Milliseconds from `from` to `to`, or None when either was stamped out of order or the
/// end is before the start: no timing across a clock that went back.
fn span(from: Ts, from_in_time: bool, to: Ts, to_in_time: bool) -> Option<f64> {
    (from_in_time && to_in_time && to >= from).then(|| to.ms_since(from))
}

impl Handshake {
    /// Note a handshake packet's time: whether it is not before an earlier one.
    fn in_time(&mut self, ts: Ts) -> bool {
        let ok = !self.stamps.latest || ts >= self.latest_ts;
        self.latest_ts = if self.stamps.latest {
            self.latest_ts.max(ts)
        } else {
            ts
        };
        self.stamps.latest = true;
        ok
    }

    /// The last SYN's time, once there was one.
    fn last_syn(&self) -> Option<Ts> {
        self.stamps.syn.then_some(self.last_syn_ts)
    }

    /// The last SYN-ACK's time, once there was one.
    fn last_syn_ack(&self) -> Option<Ts> {
        self.stamps.syn_ack.then_some(self.last_syn_ack_ts)
    }

    /// `span` from the last SYN (or SYN-ACK) to `ts`, counting a timing left out.
    fn timing(
        &mut self,
        from: Option<Ts>,
        from_in_time: bool,
        ts: Ts,
        in_time: bool,
    ) -> Option<f64> {
        let from = from?;
        let t = span(from, from_in_time, ts, in_time);
        self.timings_skipped += u32::from(t.is_none());
        t
    }

    pub fn is_complete(&self) -> bool {
        self.ack_frame.is_some()
    }

    pub(crate) fn on_client_syn(
        &mut self,
        isn: u32,
        opts: &TcpOptions,
        data: u32,
        frame: u64,
        ts: Ts,
    ) {
        let in_time = self.in_time(ts);
        if self.syn_frame.is_none() {
            self.syn_frame = Some(frame);
            self.client_isn = Some(isn);
            self.options.client = Some(SideOptions::from(opts));
            self.syn_data_bytes = data;
            self.outcome = Outcome::NoAnswer;
        } else if self.ack_frame.is_none() {
            self.syn_retransmissions += 1;
        }
        if self.ack_frame.is_none() {
            let prev = self.last_syn_in_time;
            push_attempt(
                &mut self.syns,
                frame,
                ts,
                prev,
                in_time,
                &mut self.timings_skipped,
            );
            self.last_syn_ts = ts;
            self.stamps.syn = true;
            self.last_syn_in_time = in_time;
        }
    }

    /// The server sent a SYN without ACK: both sides opened at once.
    pub(crate) fn on_server_syn(&mut self, isn: u32, opts: &TcpOptions, frame: u64, ts: Ts) {
        let in_time = self.in_time(ts);
        self.server_syn_without_ack = true;
        if self.server_isn.is_none() {
            self.server_isn = Some(isn);
            self.options.server = Some(SideOptions::from(opts));
            self.syn_ack_frame = Some(frame);
            push_attempt(
                &mut self.syn_acks,
                frame,
                ts,
                false,
                in_time,
                &mut self.timings_skipped,
            );
            self.last_syn_ack_ts = ts;
            self.stamps.syn_ack = true;
            self.last_syn_ack_in_time = in_time;
        }
        if self.syn_frame.is_some() {
            self.outcome = Outcome::SimultaneousOpen;
        }
    }

    pub(crate) fn on_syn_ack(&mut self, isn: u32, opts: &TcpOptions, frame: u64, ts: Ts) {
        let in_time = self.in_time(ts);
        if self.syn_ack_frame.is_none() {
            self.syn_ack_frame = Some(frame);
            self.server_isn = Some(isn);
            self.options.server = Some(SideOptions::from(opts));
            self.syn_to_syn_ack_ms =
                self.timing(self.last_syn(), self.last_syn_in_time, ts, in_time);
            if self.outcome == Outcome::NoAnswer {
                self.outcome = Outcome::Incomplete;
            }
        } else if self.ack_frame.is_none() {
            self.syn_ack_retransmissions += 1;
        }
        if self.ack_frame.is_none() {
            let prev = self.last_syn_ack_in_time;
            push_attempt(
                &mut self.syn_acks,
                frame,
                ts,
                prev,
                in_time,
                &mut self.timings_skipped,
            );
            self.last_syn_ack_ts = ts;
            self.stamps.syn_ack = true;
            self.last_syn_ack_in_time = in_time;
        }
    }

    /// The client's first segment acknowledging the server's SYN.
    pub(crate) fn on_completing_ack(&mut self, frame: u64, ts: Ts) {
        if self.ack_frame.is_some() || self.syn_ack_frame.is_none() {
            return;
        }
        let in_time = self.in_time(ts);
        self.ack_frame = Some(frame);
        self.irtt_ms = self.timing(self.last_syn(), self.last_syn_in_time, ts, in_time);
        self.syn_ack_to_ack_ms =
            self.timing(self.last_syn_ack(), self.last_syn_ack_in_time, ts, in_time);
        if self.outcome != Outcome::SimultaneousOpen {
            self.outcome = Outcome::Complete;
        }
    }

    /// A RST before the handshake completed.
    pub(crate) fn on_rst(&mut self, from_server: bool, ts: Ts) {
        if self.ack_frame.is_some() || self.syn_frame.is_none() {
            return;
        }
        if !self.rst_seen {
            let in_time = self.in_time(ts);
            self.rst_seen = true;
            // A refusal is a round trip (SYN out, RST back) but no handshake: it is kept
            // as `syn_to_rst_ms`, never shown as an iRTT.
            if from_server && self.syn_ack_frame.is_none() {
                self.syn_to_rst_ms =
                    self.timing(self.last_syn(), self.last_syn_in_time, ts, in_time);
            }
        }
        self.outcome = if from_server && self.syn_ack_frame.is_none() {
            Outcome::Refused
        } else {
            Outcome::ResetDuringHandshake
        };
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome::{self, *};

    /// The text report's names are the JSON ones.
    #[test]
    fn names_are_the_json_names() {
        let all: [Outcome; 7] = [
            Complete,
            Refused,
            NoAnswer,
            SimultaneousOpen,
            NotCaptured,
            ResetDuringHandshake,
            Incomplete,
        ];
        for o in all {
            assert_eq!(
                serde_json::to_string(&o).unwrap(),
                format!("\"{}\"", o.name())
            );
        }
    }
}
