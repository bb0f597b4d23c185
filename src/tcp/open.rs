//! The opening of a connection as the engine sees it: the first packet, the checks on a
//! segment's own header, each side's base for relative numbers and the handshake.

use super::analysis::Finding;
use super::seq::SeqNum;
use super::{Dir, TcpConn, state};
use crate::decode::TcpSegment;
use crate::ts::Ts;

impl TcpConn {
    pub(super) fn on_first_packet(&mut self, dir: Dir, syn: bool, frame: u64, ts: Ts) {
        self.first_packet = false;
        if dir == Dir::Server {
            self.history.flipped();
        }
        if !syn {
            // Capture began mid-connection: both endpoints assumed ESTABLISHED.
            for x in [Dir::Client, Dir::Server] {
                self.apply(x, state::Event::CaptureMidConnection, frame, ts, true);
            }
        }
    }

    /// Checks on the segment's own header: impossible flags, a window scale above 14,
    /// anything but a bare ACK after the connection ended, data on a SYN.
    pub(super) fn check_flags(&self, seg: &TcpSegment<'_>, out: &mut Vec<Finding>) {
        let f = seg.flags;
        let (syn, fin, rst) = (f.syn(), f.fin(), f.rst());
        let two_of = u8::from(syn) + u8::from(fin) + u8::from(rst) >= 2;
        if two_of || f.0 & 0x1FF == 0 {
            out.push(Finding::ImpossibleFlags { flags: f.0 });
        }
        if syn
            && let Some(scale) = seg.options.wscale
            && scale > 14
        {
            out.push(Finding::BadWindowScale { scale });
        }
        let seglen = seg.payload_len + u32::from(syn) + u32::from(fin);
        let fresh_syn = syn && !f.ack();
        if self.is_closed() && !fresh_syn && (seglen > 0 || rst) {
            out.push(Finding::AfterClose {
                reset: self.rst_seen,
            });
        }
        if syn && seg.payload_len > 0 {
            out.push(Finding::SynData {
                bytes: seg.payload_len,
            });
        }
    }

    /// The opening: each side's base for relative numbers, window scales, the handshake's
    /// SYN / SYN-ACK / completing ACK / RST.
    pub(super) fn open(&mut self, dir: Dir, seg: &TcpSegment<'_>, frame: u64, ts: Ts) {
        let f = seg.flags;
        let (d, o) = (dir.idx(), dir.other().idx());
        let (seq, ack) = (SeqNum(seg.seq), SeqNum(seg.ack));
        if f.syn() {
            self.open_syn(dir, seg, frame, ts);
        } else if self.half[d].side.base.is_none() {
            // No SYN seen from this side: number its bytes as though the SYN had been
            // the sequence number just before its first segment (Wireshark's and Zeek's
            // convention: the first byte seen is relative 1).
            self.half[d].side.base = Some(seq.add(u32::MAX));
        }
        // The peer's numbering starts with whichever comes first: its own first segment,
        // or the first ACK sent to it (which names its next byte, relative 1).
        if f.ack() && self.half[o].side.base.is_none() {
            self.half[o].side.base = Some(ack.add(u32::MAX));
        }
        // Without the peer's SYN, its stream starts at the first byte this side
        // acknowledges, if that comes before the peer's data: a head lost right after a
        // missing SYN-ACK is then a gap the HTTP layer can see, not a silent start.
        let ho = &mut self.half[o];
        if self.cfg.reassemble && f.ack() && !f.rst() && !ho.syn_seen && !ho.reasm.is_started() {
            ho.reasm.start(ack);
        }
        if dir == Dir::Client
            && f.ack()
            && !f.syn()
            && !f.rst()
            && let Some(sisn) = self.handshake.server_isn
            && ack.ge(SeqNum(sisn).add(1))
        {
            self.handshake.on_completing_ack(frame, ts);
        }
        if f.rst() {
            self.handshake.on_rst(dir == Dir::Server, ts);
        }
    }

    pub(super) fn open_syn(&mut self, dir: Dir, seg: &TcpSegment<'_>, frame: u64, ts: Ts) {
        let f = seg.flags;
        let seq = SeqNum(seg.seq);
        let h = &mut self.half[dir.idx()];
        if !h.syn_seen || h.side.base.is_none() {
            h.side.base = Some(seq);
        }
        h.syn_seen = true;
        if seg.options.wscale.is_some() {
            h.wscale = seg.options.wscale;
        }
        if self.cfg.reassemble && !h.reasm.is_started() {
            h.reasm.start(seq.add(1));
        }
        match (f.ack(), dir) {
            (false, Dir::Client) => {
                // The same SYN again after the attempt was refused: the attempt goes on
                // (the flow table kept it in this connection because the ISN matches).
                if self.rst_seen
                    && !self.handshake.is_complete()
                    && self.handshake.client_isn == Some(seg.seq)
                {
                    self.rst_seen = false;
                }
                let hs = &mut self.handshake;
                hs.on_client_syn(seg.seq, &seg.options, seg.payload_len, frame, ts);
            }
            (false, Dir::Server) => self
                .handshake
                .on_server_syn(seg.seq, &seg.options, frame, ts),
            (true, Dir::Server) => self.handshake.on_syn_ack(seg.seq, &seg.options, frame, ts),
            (true, Dir::Client) => {}
        }
        self.scaling = self.half.iter().all(|h| h.syn_seen && h.wscale.is_some());
    }
}
