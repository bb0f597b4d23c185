//! The TCP engine: per-connection handshake, both endpoints' RFC 9293 states, stream
//! reassembly, Wireshark-grade analysis flags, Zeek's summary and measurements.
//!
//! Sans-IO: it is handed decoded segments with their frame number and timestamp and
//! never touches pcap, the terminal or the clock. Reassembled bytes leave through a sink
//! callback so the HTTP layer can consume them without this module knowing about HTTP.

pub mod analysis;
mod endpoint;
mod finding;
pub mod handshake;
pub mod measure;
mod open;
pub mod reassembly;
mod record;
pub mod rst;
mod sent;
pub mod seq;
pub mod state;
mod summary;
pub mod zeek;

use crate::decode::TcpSegment;
use crate::flow::Dir;
use crate::ts::Ts;
use analysis::{Counts, Finding, Flag};
use handshake::Handshake;
use measure::Meter;
pub use measure::Rtt;
use reassembly::{Reassembler, StreamEvent};
pub use record::{GapRecord, PacketRecord};
#[cfg(test)]
pub(crate) use record::{test_handshake, test_record};
use seq::SeqNum;
use serde::Serialize;
use state::EndpointState;
pub use summary::{FinalStates, PerDirF64, PerDirOpt, PerDirU64, States, TcpSummary};
use zeek::{History, ZSegment};

/// Limits of the engine.
#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    /// Out-of-order bytes buffered per direction before a gap is forced.
    pub reassembly_cap: usize,
    /// Keep a record of every packet (for `--packets` and the TUI).
    pub keep_packets: bool,
    /// Most packet records kept per connection; the rest are counted.
    pub max_packets_per_conn: usize,
    /// Reassemble the byte streams at all (off: analysis only).
    pub reassemble: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            reassembly_cap: 4 << 20,
            keep_packets: false,
            max_packets_per_conn: 1_000_000,
            reassemble: true,
        }
    }
}

/// What the engine knows about one direction (one sender).
#[derive(Debug)]
struct Half {
    /// What Wireshark's rules read (base, next expected, last ACK, window, ...).
    side: analysis::Side,
    syn_seen: bool,
    /// Highest sequence number the peer may acknowledge (for ACKed-unseen).
    max_to_be_acked: Option<SeqNum>,
    wscale: Option<u8>,
    fin_seq: Option<SeqNum>,
    fin_acked: bool,
    /// This side's FIN arrived ahead of missing data: the frame that carried it. The
    /// peer acts on it (CLOSE-WAIT, CLOSING, TIME-WAIT) only once every byte before it
    /// has arrived or its ACK covers the FIN.
    fin_held: Option<u64>,
    /// The FIN was handed on in order (to the HTTP layer) already.
    fin_reported: bool,
    reasm: Reassembler,
    meter: Meter,
    /// The segments it sent, for the chain of each resend (only with packet records:
    /// boxed and created then, so a connection without them does not carry it).
    sent: Option<Box<sent::SentLog>>,
}

impl Half {
    fn new(cap: usize) -> Half {
        Half {
            side: analysis::Side::default(),
            syn_seen: false,
            max_to_be_acked: None,
            wscale: None,
            fin_seq: None,
            fin_acked: false,
            fin_held: None,
            fin_reported: false,
            reasm: Reassembler::new(cap),
            meter: Meter::default(),
            sent: None,
        }
    }
}

/// How the connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Close {
    Fin,
    Rst,
    Open,
    HalfClosed,
}

/// Per-connection engine state.
#[derive(Debug)]
pub struct TcpConn {
    cfg: EngineConfig,
    half: [Half; 2],
    ep: [EndpointState; 2],
    /// Per receiver: a FIN it received, recorded at its next transition (endpoint.rs).
    fin_pending: [Option<endpoint::PendingFin>; 2],
    pub handshake: Handshake,
    pub history: History,
    /// Counts of each analysis flag: boxed, made at the first flag (a connection without
    /// one, as most of a SYN flood's, carries 8 bytes instead of 88; docs/memory.md).
    counts: Option<Box<Counts>>,
    pub rtt: Rtt,
    pub gaps: Vec<GapRecord>,
    pub packets: Vec<PacketRecord>,
    pub packets_dropped: u64,
    rst_seen: bool,
    first_packet: bool,
    /// Both windows scaled (both SYNs carried the option).
    scaling: bool,
    /// The latest packet time of the connection (none while `first_packet`): a segment
    /// stamped before it is no end of a measurement.
    latest_ts: Ts,
}

/// Truncate long lists of gaps kept per connection.
const MAX_GAPS: usize = 1000;

/// Pass one direction's stream events on to `sink`, recording each gap on the way.
fn tap<'s>(
    gaps: &'s mut Vec<GapRecord>,
    history: &'s mut History,
    dir: Dir,
    sink: &'s mut dyn FnMut(Dir, StreamEvent<'_>),
) -> impl FnMut(StreamEvent<'_>) + 's {
    move |ev| {
        if let StreamEvent::Gap { offset, len } = ev {
            history.on_gap(dir);
            if gaps.len() < MAX_GAPS {
                gaps.push(GapRecord {
                    dir,
                    rel_seq: offset + 1,
                    len,
                });
            }
        }
        sink(dir, ev);
    }
}

impl TcpConn {
    pub fn new(cfg: EngineConfig) -> Self {
        TcpConn {
            cfg,
            half: [Half::new(cfg.reassembly_cap), Half::new(cfg.reassembly_cap)],
            ep: [EndpointState::default(), EndpointState::default()],
            fin_pending: [None, None],
            handshake: Handshake::default(),
            history: History::default(),
            counts: None,
            rtt: Rtt::default(),
            gaps: Vec::new(),
            packets: Vec::new(),
            packets_dropped: 0,
            rst_seen: false,
            first_packet: true,
            scaling: false,
            latest_ts: Ts(0),
        }
    }

    /// The ISN (or first sequence number seen) of a direction: relative numbers count
    /// from it.
    pub fn base_seq(&self, dir: Dir) -> Option<u32> {
        self.half[dir.idx()].side.base.map(|b| b.0)
    }

    /// Counts of each analysis flag so far.
    pub fn counts(&self) -> Counts {
        self.counts.as_deref().cloned().unwrap_or_default()
    }

    pub fn max_in_flight(&self, dir: Dir) -> u64 {
        self.half[dir.idx()].meter.max_in_flight()
    }

    /// Receive window advertised last by `dir`, with scaling applied when known.
    pub fn last_window(&self, dir: Dir) -> Option<u64> {
        let h = &self.half[dir.idx()];
        h.side
            .window
            .map(|w| self.scaled(dir, w, false).unwrap_or(u64::from(w)))
    }

    /// Payload bytes per second from `dir`, between its first and last data segment.
    pub fn throughput_bps(&self, dir: Dir) -> Option<f64> {
        self.half[dir.idx()].meter.throughput_bps()
    }

    /// A FIN or RST was seen: a new SYN on this tuple starts a new connection.
    pub fn is_closing(&self) -> bool {
        self.rst_seen || self.half.iter().any(|h| h.fin_seq.is_some())
    }

    /// `dir`'s FIN has been seen and every byte before it was delivered in order.
    pub fn fin_in_order(&self, dir: Dir) -> bool {
        let h = &self.half[dir.idx()];
        match (h.fin_seq, h.reasm.next_seq()) {
            (Some(f), Some(n)) => f == n,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// True once, when `dir`'s FIN is in order (every byte before it delivered): at its
    /// own frame, or at the frame that fills the hole before it.
    pub fn take_fin_in_order(&mut self, dir: Dir) -> bool {
        if self.half[dir.idx()].fin_reported || !self.fin_in_order(dir) {
            return false;
        }
        self.half[dir.idx()].fin_reported = true;
        true
    }

    /// Both sides are done (RST, or both FINs acknowledged).
    pub fn is_closed(&self) -> bool {
        self.rst_seen || self.half.iter().all(|h| h.fin_acked)
    }

    pub fn close(&self) -> Close {
        let fins = self.half.iter().filter(|h| h.fin_seq.is_some()).count();
        if self.rst_seen {
            Close::Rst
        } else if fins == 2 {
            Close::Fin
        } else if fins == 1 {
            Close::HalfClosed
        } else {
            Close::Open
        }
    }

    pub fn conn_state(&self) -> &'static str {
        self.history.conn_state(
            self.half[0].meter.payload_bytes,
            self.half[1].meter.payload_bytes,
        )
    }

    /// The window in bytes. SYN windows are never scaled; otherwise the scale is known
    /// only when both SYNs were seen (both offering the option, or it is off).
    fn scaled(&self, dir: Dir, w: u16, syn: bool) -> Option<u64> {
        if syn {
            return Some(u64::from(w));
        }
        if !(self.half[0].syn_seen && self.half[1].syn_seen) {
            return None;
        }
        let s = if self.scaling {
            self.half[dir.idx()].wscale.unwrap_or(0).min(14)
        } else {
            0
        };
        Some(u64::from(w) << s)
    }

    /// Feed one segment. Reassembled bytes go to `sink`.
    ///
    /// The order is the engine's contract: flag checks, the opening (bases, handshake),
    /// Wireshark's sequence rules against what was known before this segment, RST
    /// validity, both endpoints' states, Zeek's view, reassembly, measurements, and only
    /// then the trackers the next segment's rules read.
    pub fn on_segment(
        &mut self,
        dir: Dir,
        seg: &TcpSegment<'_>,
        frame: u64,
        ts: Ts,
        sink: &mut dyn FnMut(Dir, StreamEvent<'_>),
    ) {
        let f = seg.flags;
        // Stamped before an earlier packet of this connection: no measurement ends here.
        let in_time = self.first_packet || ts >= self.latest_ts;
        if in_time {
            self.latest_ts = ts;
        }
        if self.first_packet {
            self.on_first_packet(dir, f.syn(), frame, ts);
        }
        let mut found: Vec<Finding> = Vec::new();
        self.check_flags(seg, &mut found);
        self.open(dir, seg, frame, ts);
        let ctx = self.rule_context(dir);
        let verdict = analysis::check(&ctx, seg, ts, &mut found);
        if self.cfg.keep_packets {
            self.link_resend(dir, seg, frame, ts, &ctx, &mut found);
        }
        let rst_accepted = f.rst() && self.judge_rst(dir, seg, &mut found);
        self.update_states(dir, seg, frame, ts, rst_accepted);
        self.update_zeek(dir, seg);
        self.reassemble(dir, seg, frame, &mut found, sink);
        // A hole filled (or skipped as lost) before a held FIN: it takes effect now.
        self.release_held_fin(dir, frame, ts);
        self.release_held_fin(dir.other(), frame, ts);
        self.measure(dir, seg, ts, in_time, verdict.retransmitted);
        self.track(dir, seg, frame, ts, &verdict);
        for x in &found {
            self.counts.get_or_insert_default().add(x.flag());
        }
        self.record(dir, seg, frame, ts, found, verdict.dup_ack);
    }

    /// What Wireshark's rules read about both sides, as known before this segment.
    fn rule_context(&self, dir: Dir) -> analysis::Ctx {
        let ho = &self.half[dir.other().idx()];
        // ACK of data never seen: beyond the highest contiguous byte of the peer's stream
        // (the reassembler knows it exactly; without reassembly, the highest seq seen).
        let c = if ho.reasm.is_started() {
            ho.reasm.next_seq()
        } else {
            ho.max_to_be_acked
        };
        // The FIN occupies one sequence number after the last data byte.
        let peer_contiguous = c.map(|c| if ho.fin_seq == Some(c) { c.add(1) } else { c });
        analysis::Ctx {
            me: self.half[dir.idx()].side,
            peer: ho.side,
            peer_window_bytes: ho
                .side
                .window
                .and_then(|w| self.scaled(dir.other(), w, false)),
            peer_contiguous,
            reorder_threshold_s: self.handshake.irtt_ms.map_or(0.003, |ms| ms / 1000.0),
        }
    }

    /// RFC 5961 validity of a RST from `dir`; an accepted one ends the connection.
    fn judge_rst(&mut self, dir: Dir, seg: &TcpSegment<'_>, out: &mut Vec<Finding>) -> bool {
        let o = dir.other();
        let ho = &self.half[o.idx()];
        let rcv = rst::Receiver {
            state: self.state(o),
            side: ho.side,
            window_bytes: ho
                .side
                .window
                .map(|w| self.scaled(o, w, false).unwrap_or(u64::from(w)))
                .unwrap_or(65535),
        };
        let md5 = seg.options.unknown.iter().any(|(k, _)| *k == 19);
        let ack = seg.flags.ack().then_some(SeqNum(seg.ack));
        let sender = &self.half[dir.idx()].side;
        let (accepted, finding) = rst::judge(&rcv, sender, SeqNum(seg.seq), ack, md5);
        out.extend(finding);
        if accepted {
            self.rst_seen = true;
        }
        accepted
    }

    /// Hand the payload to the reassembler; then, when the peer acknowledged bytes that
    /// were never captured, declare them lost so consumers resync.
    fn reassemble(
        &mut self,
        dir: Dir,
        seg: &TcpSegment<'_>,
        frame: u64,
        found: &mut Vec<Finding>,
        sink: &mut dyn FnMut(Dir, StreamEvent<'_>),
    ) {
        let f = seg.flags;
        if !self.cfg.reassemble || f.rst() {
            return;
        }
        if seg.payload_len > 0 {
            // Where the payload starts: after the SYN's phantom byte.
            let data_seq = SeqNum(seg.seq).add(u32::from(f.syn()));
            let h = &mut self.half[dir.idx()];
            let mut fwd = tap(&mut self.gaps, &mut self.history, dir, sink);
            let out = h.reasm.push(data_seq, seg.payload, frame, &mut fwd);
            if seg.payload.len() < seg.payload_len as usize {
                // Cut by the snapshot length: the rest of this segment is a known gap.
                h.reasm.skip_to(data_seq.add(seg.payload_len), &mut fwd);
            }
            if out.overlap_conflict {
                found.push(Finding::OverlapConflict);
            }
            if out.cap_hit {
                found.push(Finding::BufferCapHit {
                    cap: self.cfg.reassembly_cap,
                });
            }
        }
        let ack = SeqNum(seg.ack);
        let odir = dir.other();
        let h = &mut self.half[odir.idx()];
        if f.ack()
            && h.reasm.is_started()
            && let Some(n) = h.reasm.next_seq()
            && ack.gt(n)
            && h.side.next_seq.is_some_and(|hn| {
                ack.le(hn.add(1)) || found.iter().any(|x| x.flag() == Flag::AckUnseen)
            })
        {
            let fin_end = h.fin_seq.map(|s| s.add(1));
            let upto = if fin_end == Some(ack) {
                ack.add(u32::MAX)
            } else {
                ack
            };
            h.reasm.skip_to(
                upto,
                &mut tap(&mut self.gaps, &mut self.history, odir, sink),
            );
        }
    }

    /// RTT samples, bytes in flight, payload and throughput.
    fn measure(&mut self, dir: Dir, seg: &TcpSegment<'_>, ts: Ts, in_time: bool, resent: bool) {
        let f = seg.flags;
        if f.rst() {
            return;
        }
        let (d, o) = (dir.idx(), dir.other().idx());
        if f.ack() {
            self.half[o]
                .meter
                .on_ack(SeqNum(seg.ack), ts, in_time, &mut self.rtt);
        }
        let seglen = seg.payload_len + u32::from(f.syn()) + u32::from(f.fin());
        if seglen > 0 {
            // Before the peer has acknowledged anything, a SYN's data (TCP Fast Open) is
            // all in flight: counted from just past the SYN, as Wireshark counts it.
            let peer_ack = self.half[o]
                .side
                .last_ack
                .or_else(|| (f.syn() && seg.payload_len > 0).then(|| SeqNum(seg.seq).add(1)));
            let m = &mut self.half[d].meter;
            m.on_sent(SeqNum(seg.seq), seglen, ts, in_time, resent, peer_ack);
        }
        if seg.payload_len > 0 && !resent {
            self.half[d].meter.on_payload(seg.payload_len, ts, in_time);
        }
    }

    /// Remember what the next segment's rules compare against.
    fn track(&mut self, dir: Dir, seg: &TcpSegment<'_>, frame: u64, ts: Ts, v: &analysis::Verdict) {
        let f = seg.flags;
        let (seq, ack) = (SeqNum(seg.seq), SeqNum(seg.ack));
        let seglen = seg.payload_len + u32::from(f.syn()) + u32::from(f.fin());
        let h = &mut self.half[dir.idx()];
        let end = seq.add(seglen);
        let zwp = v.zero_window_probe;
        let s = &mut h.side;
        if let Some(n) = v.dup_ack {
            s.dup_acks = n;
        }
        if !f.rst() && !zwp && s.next_seq.is_none_or(|n| end.gt(n)) {
            s.next_seq = Some(end);
            s.next_seq_ts = ts;
            s.next_seq_tsval = seg.options.timestamps.map(|t| t.0);
        }
        if !zwp && h.max_to_be_acked.is_none_or(|m| end.gt(m)) {
            h.max_to_be_acked = Some(end);
        }
        s.last_seg_ts = ts;
        s.last_seg_frame = frame;
        s.sack_count = seg.options.sack_count.min(4);
        for (k, &(l, r)) in seg.options.sack_blocks().iter().enumerate() {
            s.sack[k] = (SeqNum(l), SeqNum(r));
        }
        if f.ack() && s.last_ack != Some(ack) {
            s.last_ack = Some(ack);
            s.last_ack_frame = frame;
            if v.dup_ack.is_none() {
                s.dup_acks = 0;
            }
        }
        if !f.rst() {
            s.window = Some(seg.window);
            s.zero_window_frame = match seg.window {
                0 => s.zero_window_frame.or(Some(frame)),
                _ => None,
            };
        }
        s.last_keep_alive = v.keep_alive;
        s.last_zwp = zwp;
    }

    /// Keep the packet's record (for `--packets` and the TUI), up to the cap.
    fn record(
        &mut self,
        dir: Dir,
        seg: &TcpSegment<'_>,
        frame: u64,
        ts: Ts,
        analysis: Vec<Finding>,
        dup_ack: Option<i32>,
    ) {
        if !self.cfg.keep_packets {
            return;
        }
        if self.packets.len() >= self.cfg.max_packets_per_conn {
            self.packets_dropped += 1;
            return;
        }
        let f = seg.flags;
        let ack = if f.ack() {
            self.half[dir.other().idx()].side.rel(SeqNum(seg.ack))
        } else {
            0
        };
        if self.packets.capacity() == 0 {
            // Room for one: a SYN flood's connections have one packet (4 records of
            // room would cost 300 bytes each; docs/memory.md).
            self.packets.reserve_exact(1);
        }
        self.packets.push(PacketRecord {
            frame,
            ts,
            dir,
            flags: f,
            seq: self.half[dir.idx()].side.rel(SeqNum(seg.seq)),
            ack,
            len: seg.payload_len,
            window: u32::from(seg.window),
            window_scaled: self.scaled(dir, seg.window, f.syn()),
            analysis,
            options_truncated: seg.options.truncated,
            dup_ack_num: dup_ack.map(|n| n.max(0) as u32),
            states_after: (self.state(Dir::Client), self.state(Dir::Server)),
        });
    }

    /// Zeek's view of the segment: its history letters and coarse endpoint states
    /// follow Zeek's TCP analyzer (zeek.rs), whatever the RFC 9293 states say.
    fn update_zeek(&mut self, dir: Dir, seg: &TcpSegment<'_>) {
        let f = seg.flags;
        self.history.on_segment(
            dir,
            &ZSegment {
                syn: f.syn(),
                ack: f.ack(),
                fin: f.fin(),
                rst: f.rst(),
                seq: seg.seq,
                ack_no: seg.ack,
                payload_len: seg.payload_len,
                window: seg.window,
            },
        );
    }

    /// The connection is over: deliver what is buffered and drop the reassembly buffers
    /// (later segments are still analysed, but their bytes are not reassembled).
    pub fn release(&mut self, sink: &mut dyn FnMut(Dir, StreamEvent<'_>)) {
        self.finish(sink);
        self.cfg.reassemble = false;
        for h in &mut self.half {
            h.reasm = Reassembler::new(0);
            h.meter.release();
            if let Some(s) = h.sent.as_mut() {
                s.release();
            }
        }
    }

    /// End of capture: release buffered bytes (with gaps for holes).
    pub fn finish(&mut self, sink: &mut dyn FnMut(Dir, StreamEvent<'_>)) {
        if !self.cfg.reassemble {
            return;
        }
        for dir in [Dir::Client, Dir::Server] {
            let h = &mut self.half[dir.idx()];
            let mut fwd = tap(&mut self.gaps, &mut self.history, dir, sink);
            h.reasm.flush(&mut fwd);
            // Data before a FIN that never arrived is a gap too.
            if let (Some(fs), Some(n)) = (h.fin_seq, h.reasm.next_seq())
                && fs.gt(n)
            {
                h.reasm.skip_to(fs, &mut fwd);
            }
        }
    }
}

#[cfg(test)]
mod tests;
