//! Zeek-compatible connection summary: `conn_state` and `history`, following Zeek's
//! documented definitions (base/protocols/conn/main.zeek), so a result can be set beside
//! Zeek's conn.log.
//!
//! Zeek keeps a coarse state per endpoint (inactive, SYN sent, SYN-ACK sent, partial,
//! established, closed, reset); conn_state is derived from the pair at the end.

use crate::flow::Dir;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ZState {
    #[default]
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

/// History letters with Zeek's case rule: upper case for the originator.
#[derive(Clone, Debug, Default)]
pub struct History {
    letters: Letters,
    seen: [u32; 2],
    /// Counts for the letters Zeek repeats on a logarithmic scale (T, W, G): recorded at
    /// the 1st, 10th, 100th ... occurrence.
    counts: [[u32; 3]; 2],
    /// Zeek's coarse state of each endpoint (originator, responder).
    pub z: [ZState; 2],
    /// The state each endpoint was in before its latest change (Zeek's `prev_state`).
    prev: [ZState; 2],
    seqs: [ZSeq; 2],
}

/// Zeek's sequence bookkeeping of one endpoint: its start (ISN, or first seq - 1 for a
/// partial connection, or the peer's first ACK - 1), the highest seq + length seen, and
/// the relative positions of its last SYN, FIN and RST (a repeated letter needs a new
/// position).
#[derive(Clone, Copy, Debug, Default)]
struct ZSeq {
    start: u32,
    last: u32,
    last_syn: u32,
    last_fin: u32,
    last_rst: u32,
}

/// Zeek ignores a SYN's or RST's sequence number this far from the last one seen.
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// One segment, as Zeek's TCP analyzer reads it.
#[derive(Clone, Copy, Debug)]
pub struct ZSegment {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub seq: u32,
    pub ack_no: u32,
    pub payload_len: u32,
    pub window: u16,
}

const ONCE: &str = "SHADFRIQ";

/// Letters held inline in the struct (a handshake's are three: `ShA`).
const INLINE: usize = 15;

/// The history letters (ASCII): up to 15 inline, beyond that in a string of their own
/// (24 bytes and no allocation for most connections, where a `String` took 24 and a
/// 32-byte allocation: docs/memory.md).
#[derive(Clone, Debug, Default)]
#[expect(
    clippy::box_collection,
    reason = "the box is the point: 8 bytes inline while the letters fit, not 24"
)]
struct Letters {
    len: u8,
    inline: [u8; INLINE],
    spilled: Option<Box<String>>,
}

impl Letters {
    fn as_str(&self) -> &str {
        match &self.spilled {
            Some(s) => s,
            // Only ASCII letters are ever put inline.
            None => std::str::from_utf8(&self.inline[..usize::from(self.len)]).unwrap_or(""),
        }
    }

    fn push(&mut self, c: char) {
        self.insert(usize::from(self.len), c);
    }

    fn insert(&mut self, at: usize, c: char) {
        let n = usize::from(self.len);
        if let Some(s) = self.spilled.as_mut() {
            s.insert(at, c);
        } else if c.is_ascii() && n < INLINE && at <= n {
            self.inline.copy_within(at..n, at + 1);
            self.inline[at] = c as u8;
            self.len += 1;
        } else {
            let mut s = self.as_str().to_string();
            s.insert(at, c);
            self.spilled = Some(Box::new(s));
        }
    }
}

impl History {
    pub fn as_str(&self) -> &str {
        self.letters.as_str()
    }

    fn put(&mut self, dir: Dir, upper: char) {
        let c = match dir {
            Dir::Client => upper,
            Dir::Server => upper.to_ascii_lowercase(),
        };
        self.letters.push(c);
    }

    /// Record a letter the first time it happens in this direction. Returns whether it
    /// had been seen before (Zeek's `CheckHistory`).
    pub fn once(&mut self, dir: Dir, upper: char) -> bool {
        let Some(bit) = ONCE.find(upper) else {
            return true;
        };
        let mask = 1u32 << bit;
        if self.seen[dir.idx()] & mask == 0 {
            self.seen[dir.idx()] |= mask;
            self.put(dir, upper);
            false
        } else {
            true
        }
    }

    /// Record a repeated letter (T retransmission, W zero window, G content gap) at
    /// counts 1, 10, 100...
    pub fn counted(&mut self, dir: Dir, upper: char) {
        let k = match upper {
            'T' => 0,
            'W' => 1,
            'G' => 2,
            _ => return,
        };
        let n = &mut self.counts[dir.idx()][k];
        *n += 1;
        let v = *n;
        if v == 1 || (v >= 10 && is_power_of_ten(v)) {
            self.put(dir, upper);
        }
    }

    fn set(&mut self, d: usize, to: ZState) {
        self.prev[d] = self.z[d];
        self.z[d] = to;
    }

    /// Zeek's `is_clean`: established, or closed after being established.
    fn clean(&self, d: usize) -> bool {
        self.z[d] == ZState::Established
            || (self.z[d] == ZState::Closed && self.prev[d] == ZState::Established)
    }

    /// A content gap in `dir`'s stream: Zeek records `G`/`g` only while both endpoints are
    /// established or cleanly closing (elsewhere gaps arise falsely, e.g. from RST
    /// sequence numbers or a partial connection's unseen start).
    pub fn on_gap(&mut self, dir: Dir) {
        if self.clean(0) && self.clean(1) {
            self.counted(dir, 'G');
        }
    }

    /// One segment from `dir`: Zeek's history letters (S H A D F R I Q W T) and its
    /// endpoint state machine, in the order its TCP analyzer applies them.
    pub fn on_segment(&mut self, dir: Dir, s: &ZSegment) {
        let (d, o) = (dir.idx(), dir.other().idx());
        let seg_len = s.payload_len + u32::from(s.syn) + u32::from(s.fin)
            - if s.rst { s.payload_len } else { 0 };
        let one_past = s.seq.wrapping_add(seg_len);
        self.init_endpoint(d, s, one_past);
        let rel = s.seq.wrapping_sub(self.seqs[d].start);
        self.letters_of(dir, s, rel);
        // Zero windows count unless they come with or after a RST, or after the peer's
        // FIN.
        if s.window == 0 && !s.rst && self.z[o] != ZState::Closed && self.z[d] != ZState::Reset {
            self.counted(dir, 'W');
        }
        if s.ack && self.z[o] == ZState::Inactive {
            // The peer's numbering starts as if its SYN had been seen.
            let b = s.ack_no.wrapping_sub(1);
            self.seqs[o].start = b;
            self.seqs[o].last = b;
        }
        let delta_last = self.update_last_seq(dir, s, one_past);
        self.state_machine(dir, s, delta_last);
    }

    fn init_endpoint(&mut self, d: usize, s: &ZSegment, one_past: u32) {
        let q = &mut self.seqs[d];
        match self.z[d] {
            ZState::Inactive => {
                if s.syn {
                    q.start = s.seq;
                    q.last = one_past;
                } else {
                    // A partial connection: numbered as though a SYN had been seen.
                    q.start = s.seq.wrapping_sub(1);
                    q.last = s.seq;
                }
            }
            ZState::SynSent | ZState::SynAckSent => {
                if s.syn && s.seq != q.start {
                    q.start = s.seq;
                    q.last = one_past;
                }
            }
            ZState::Established | ZState::Partial => {
                if s.syn {
                    q.start = s.seq;
                    q.last = one_past;
                }
            }
            ZState::Reset => {
                if s.syn && self.prev[d] == ZState::Inactive {
                    q.start = s.seq;
                    q.last = one_past;
                }
            }
            ZState::Closed => {}
        }
    }

    /// Zeek's `update_history`: one letter per kind of packet, repeated for SYN, FIN and
    /// RST only when they sit at a new relative sequence number.
    fn letters_of(&mut self, dir: Dir, s: &ZSegment, rel: u32) {
        let d = dir.idx();
        let bits = u8::from(s.syn) + u8::from(s.fin) + u8::from(s.rst);
        if bits > 1 {
            self.once(dir, if s.fin && s.rst { 'I' } else { 'Q' });
        } else if bits == 1 {
            if s.syn {
                let code = if s.ack { 'H' } else { 'S' };
                if self.once(dir, code) && rel != self.seqs[d].last_syn {
                    self.put(dir, code);
                }
                self.seqs[d].last_syn = rel;
            }
            if s.fin {
                let at = rel.wrapping_add(s.payload_len);
                if self.once(dir, 'F') && at != self.seqs[d].last_fin {
                    self.put(dir, 'F');
                }
                self.seqs[d].last_fin = at;
            }
            if s.rst {
                if self.once(dir, 'R') && rel != self.seqs[d].last_rst {
                    self.put(dir, 'R');
                }
                self.seqs[d].last_rst = rel;
            }
        } else if s.payload_len > 0 {
            self.once(dir, 'D');
        } else if s.ack {
            self.once(dir, 'A');
        }
    }

    /// Zeek's `update_last_seq`: payload that does not advance the highest sequence
    /// number seen is a retransmission (`T`), whether or not other tools call it
    /// out-of-order or a duplicate copy.
    fn update_last_seq(&mut self, dir: Dir, s: &ZSegment, one_past: u32) -> i32 {
        let d = dir.idx();
        let q = self.seqs[d];
        let delta = one_past.wrapping_sub(q.last) as i32;
        if (s.syn || s.rst) && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta) {
            // An outlandish SYN or RST sequence number is not trusted.
        } else if s.fin && q.last == q.start.wrapping_add(1) {
            self.seqs[d].last = one_past;
        } else if self.z[d] == ZState::Reset {
            // Nothing after a RST is trusted.
        } else if delta > 0 {
            self.seqs[d].last = one_past;
        } else if s.payload_len > 0 {
            self.counted(dir, 'T');
        }
        delta
    }

    /// Zeek's endpoint state machine, keyed by the sender's state.
    fn state_machine(&mut self, dir: Dir, s: &ZSegment, _delta_last: i32) {
        use ZState::*;
        let (d, o) = (dir.idx(), dir.other().idx());
        let is_orig = dir == Dir::Client;
        match self.z[d] {
            Inactive => {
                if s.syn {
                    if is_orig {
                        self.set(d, if s.ack { SynAckSent } else { SynSent });
                    } else {
                        // The responder's SYN (or SYN-ACK) establishes both ends that
                        // were waiting for it.
                        if self.z[o] == SynSent {
                            self.set(o, Established);
                        }
                        self.set(d, Established);
                    }
                }
                if s.fin {
                    self.set(d, Closed);
                }
                if s.rst {
                    self.set(d, Reset);
                }
                if self.z[d] == Inactive {
                    if !is_orig && s.payload_len == 0 && self.z[o] == SynSent {
                        // A responder that ACKs the SYN before answering it: not yet
                        // a partial connection.
                    } else if s.ack && self.z[o] == Established {
                        // The SYN was missed but the SYN-ACK was seen.
                        self.set(d, Established);
                    } else {
                        self.set(d, Partial);
                    }
                }
            }
            SynSent | SynAckSent => {
                if s.fin {
                    self.set(d, Closed);
                }
                if s.rst {
                    self.set(d, Reset);
                }
            }
            Established | Partial => {
                if s.syn && self.z[d] == Partial && self.z[o] == Inactive && !s.ack {
                    self.set(d, SynSent);
                }
                if s.fin && !s.rst {
                    self.set(d, Closed);
                    // A FIN then a RST from the peer was a normal close after all.
                    if self.z[o] == Reset && self.prev[o] == Closed {
                        self.set(o, Closed);
                    }
                }
                if s.rst {
                    self.set(d, Reset);
                }
            }
            Closed => {
                // Once both sides have closed, a RST changes nothing.
                if s.rst && self.z[o] != Closed {
                    self.set(d, Reset);
                }
            }
            Reset => {}
        }
    }

    /// The connection direction was flipped by a heuristic (first packet not from the
    /// originator).
    pub fn flipped(&mut self) {
        if !self.as_str().starts_with('^') {
            self.letters.insert(0, '^');
        }
    }

    /// Zeek's conn_state from both endpoints' coarse states.
    pub fn conn_state(&self, orig_bytes: u64, resp_bytes: u64) -> &'static str {
        use ZState::*;
        let (os, rs) = (self.z[0], self.z[1]);
        let o_inactive = matches!(os, Inactive | Partial);
        let r_inactive = matches!(rs, Inactive | Partial);
        if rs == Reset {
            if matches!(os, SynSent | SynAckSent)
                || (os == Reset && orig_bytes == 0 && resp_bytes == 0)
            {
                "REJ"
            } else if o_inactive {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == Reset {
            if r_inactive {
                if self.rsto_s0_pattern() {
                    "RSTOS0"
                } else {
                    "OTH"
                }
            } else {
                "RSTO"
            }
        } else if rs == Closed && os == Closed {
            "SF"
        } else if os == Closed {
            if r_inactive { "SH" } else { "S2" }
        } else if rs == Closed {
            if o_inactive { "SHR" } else { "S3" }
        } else if os == SynSent && rs == Inactive {
            "S0"
        } else if os == Established && rs == Established {
            "S1"
        } else {
            "OTH"
        }
    }

    /// Zeek: history matches /^\^?S[^HAFGIQ]*R.*/ (a SYN, then a RST with no handshake).
    fn rsto_s0_pattern(&self) -> bool {
        let h = self.as_str();
        let h = h.strip_prefix('^').unwrap_or(h);
        let Some(rest) = h.strip_prefix('S') else {
            return false;
        };
        for c in rest.chars() {
            if c == 'R' {
                return true;
            }
            if "HAFGIQ".contains(c) {
                return false;
            }
        }
        false
    }
}

fn is_power_of_ten(mut v: u32) -> bool {
    while v >= 10 && v.is_multiple_of(10) {
        v /= 10;
    }
    v == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_once_per_direction_with_case() {
        let mut h = History::default();
        h.once(Dir::Client, 'S');
        h.once(Dir::Server, 'H');
        h.once(Dir::Client, 'A');
        h.once(Dir::Client, 'A');
        h.once(Dir::Client, 'D');
        h.once(Dir::Server, 'D');
        h.once(Dir::Client, 'F');
        h.once(Dir::Server, 'F');
        assert_eq!(h.as_str(), "ShADdFf");
    }

    #[test]
    fn repeated_letters_are_logarithmic() {
        let mut h = History::default();
        for _ in 0..100 {
            h.counted(Dir::Client, 'T');
        }
        assert_eq!(h.as_str(), "TTT");
    }

    /// Past the 15 letters held inline, the letters go on in a string of their own; the
    /// flip mark still goes first.
    #[test]
    fn letters_past_the_inline_room_are_kept_whole() {
        let mut h = History::default();
        for _ in 0..20 {
            h.counted(Dir::Client, 'T');
            h.counted(Dir::Server, 'T');
        }
        for c in ['S', 'H', 'A', 'D', 'F'] {
            h.once(Dir::Client, c);
            h.once(Dir::Server, c);
        }
        h.once(Dir::Client, 'R');
        assert_eq!(h.as_str(), "TtTtSsHhAaDdFfR");
        assert!(h.letters.spilled.is_none(), "15 letters fit inline");
        h.once(Dir::Server, 'R');
        assert!(h.letters.spilled.is_some());
        h.flipped();
        h.flipped();
        assert_eq!(h.as_str(), "^TtTtSsHhAaDdFfRr");
    }

    #[test]
    fn conn_states() {
        let mut h = History {
            z: [ZState::SynSent, ZState::Inactive],
            ..Default::default()
        };
        assert_eq!(h.conn_state(0, 0), "S0");
        h.z = [ZState::SynSent, ZState::Reset];
        assert_eq!(h.conn_state(0, 0), "REJ");
        h.z = [ZState::Closed, ZState::Closed];
        assert_eq!(h.conn_state(10, 10), "SF");
        h.z = [ZState::Established, ZState::Reset];
        assert_eq!(h.conn_state(10, 10), "RSTR");
        h.z = [ZState::Reset, ZState::Established];
        assert_eq!(h.conn_state(10, 10), "RSTO");
        h.z = [ZState::Closed, ZState::Established];
        assert_eq!(h.conn_state(10, 10), "S2");
        h.z = [ZState::Established, ZState::Closed];
        assert_eq!(h.conn_state(10, 10), "S3");
        h.z = [ZState::Partial, ZState::Partial];
        assert_eq!(h.conn_state(10, 10), "OTH");
        h.z = [ZState::Closed, ZState::Inactive];
        assert_eq!(h.conn_state(0, 0), "SH");
        h.z = [ZState::Inactive, ZState::Closed];
        assert_eq!(h.conn_state(0, 0), "SHR");
        h.z = [ZState::Established, ZState::Established];
        assert_eq!(h.conn_state(1, 1), "S1");
        let mut h = History::default();
        h.once(Dir::Client, 'S');
        h.once(Dir::Client, 'R');
        h.z = [ZState::Reset, ZState::Inactive];
        assert_eq!(h.conn_state(0, 0), "RSTOS0");
        h.z = [ZState::Inactive, ZState::Reset];
        assert_eq!(h.conn_state(0, 0), "RSTRH");
    }
}
