//! Finding the next start line when the framing is unknown: after a gap, in a capture
//! that began inside a message, or past a line that is no start line.

use std::ops::ControlFlow::{Break, Continue};

use super::assembler::{Flow, HttpAssembler};
use super::detect;
use super::state::Phase;
use super::{AppProto, Dir, Status};

impl HttpAssembler {
    /// After a gap that broke the framing the stream may resume mid-line: the next start
    /// line is looked for at any byte. `Continue` at it, or `Break` with what was skipped.
    pub(super) fn resync_step(&mut self, dir: Dir, data: &[u8], pos: usize) -> Flow {
        let rest = data.get(pos..).unwrap_or_default();
        let st = &mut self.dirs[dir.idx()];
        st.start_scanned = 0;
        st.head_scanned = 0;
        match detect::find_start(dir, rest, self.cfg.header_cap) {
            Status::Complete(p, ()) => {
                st.unparsed += p as u64;
                st.resync = false;
                st.phase = Phase::AwaitStart {
                    at_line_start: true,
                };
                Continue(pos + p)
            }
            Status::Partial(skip) => {
                st.unparsed += skip as u64;
                Break(pos + skip)
            }
        }
    }

    /// Inside a line judged not a start line: skip to just past its end.
    pub(super) fn skip_line(&mut self, dir: Dir, data: &[u8], pos: usize) -> Flow {
        let rest = data.get(pos..).unwrap_or_default();
        let st = &mut self.dirs[dir.idx()];
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                st.unparsed += i as u64 + 1;
                st.phase = Phase::AwaitStart {
                    at_line_start: true,
                };
                Continue(pos + i + 1)
            }
            None => {
                st.unparsed += rest.len() as u64;
                Break(data.len())
            }
        }
    }

    /// The line at `pos` is no start line. Before the direction's first message, the
    /// capture began inside a message whose head was never captured (a download caught
    /// mid-body): the next head follows that message's last byte, which need not end a
    /// line, so it is looked for at every byte, as after a gap. Later on, the rest of the
    /// line is skipped.
    /// Only once the connection is known to be HTTP: in another protocol's bytes a start
    /// line quoted mid-line is no reason to call it HTTP (and searching every byte of
    /// every unknown stream would cost far more than skipping its lines).
    pub(super) fn not_a_start_line(&mut self, dir: Dir, pos: usize) -> Flow {
        let http = self.app == Some(AppProto::Http);
        let st = &mut self.dirs[dir.idx()];
        if http && st.lost_its_first_head() {
            st.resync = true;
            // This byte was just judged: the search goes on from the next one.
            st.unparsed += 1;
            return Continue(pos + 1);
        }
        st.phase = Phase::AwaitStart {
            at_line_start: false,
        };
        Continue(pos)
    }
}
