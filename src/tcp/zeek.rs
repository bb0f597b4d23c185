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
    letters: String,
    seen: [u32; 2],
    /// Counts for the letters Zeek repeats on a logarithmic scale (T, W): recorded at the
    /// 1st, 10th, 100th ... occurrence.
    counts: [[u32; 2]; 2],
    pub z: [ZState; 2],
}

const ONCE: &str = "SHADFRIQ";

impl History {
    pub fn as_str(&self) -> &str {
        &self.letters
    }

    fn put(&mut self, dir: Dir, upper: char) {
        let c = match dir {
            Dir::Client => upper,
            Dir::Server => upper.to_ascii_lowercase(),
        };
        self.letters.push(c);
    }

    /// Record a letter the first time it happens in this direction.
    pub fn once(&mut self, dir: Dir, upper: char) {
        let Some(bit) = ONCE.find(upper) else {
            return;
        };
        let mask = 1u32 << bit;
        if self.seen[dir.idx()] & mask == 0 {
            self.seen[dir.idx()] |= mask;
            self.put(dir, upper);
        }
    }

    /// Record a repeated letter (T retransmission, W zero window) at counts 1, 10, 100...
    pub fn counted(&mut self, dir: Dir, upper: char) {
        let k = match upper {
            'T' => 0,
            'W' => 1,
            _ => return,
        };
        let n = &mut self.counts[k][dir.idx()];
        *n += 1;
        let v = *n;
        if v == 1 || (v >= 10 && is_power_of_ten(v)) {
            self.put(dir, upper);
        }
    }

    /// The connection direction was flipped by a heuristic (first packet not from the
    /// originator).
    pub fn flipped(&mut self) {
        if !self.letters.starts_with('^') {
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
        let h = self.letters.strip_prefix('^').unwrap_or(&self.letters);
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
