//! The file TUI's compact records: beyond a memory budget, a finished connection is kept
//! as its table row alone ([`RowInfo`]: what the table shows, sorts and filters on, and its
//! ends and frames), without its `Connection`; its full analysis is made again from the
//! file's frames when the user opens it ([`reanalyse`]). A flood of 10^6 SYNs then costs
//! about 150 bytes a connection in the UI instead of 2 KB (docs/memory.md).
//!
//! What a compact connection loses until it is opened, said on screen (status line,
//! `COMPACT_NOTE`): its packets in the capture-wide anomaly list, the quiz and capture
//! playback (its row shows its totals once the playhead passes its last frame).

use crate::capture::{self, RawPacket, Source};
use crate::pipeline::Config;
use crate::pipeline::{Analyzer, Connection};
pub use crate::ui::model::Arrived;
use crate::ui::model::packets;
use crate::ui::row::NO_RECORD;
pub use crate::ui::row::{RowInfo, http_words};
use std::ops::ControlFlow;

/// The analysis settings the file UI needs: every packet record, one analysis thread.
pub fn ui_config() -> Config {
    // Bodies are not kept: the HTTP tab parses its connection again from the file, with
    // bodies, when it is opened (see `crate::stream::rebuild_stream`).
    let mut cfg = Config::default();
    cfg.engine.keep_packets = true;
    // One worker: with several, each keeps its own tables and the merge holds finished
    // whole records until every worker has passed their frames (on the 10^6-SYN file,
    // 56 MB more at the peak on average, and slower on 2 shared cores: docs/memory.md).
    cfg.workers = 1;
    cfg
}

/// Estimated bytes of whole records the file TUI keeps before it keeps compact ones.
pub const FULL_BUDGET: usize = 24 << 20;

/// What the status line says once some connections are kept compact.
/// (The anomaly list, the quiz and capture playback cover whole records only.)
pub const COMPACT_NOTE: &str = "re-read when opened, not in e/quiz/playback";

/// Whole records kept so far against [`FULL_BUDGET`].
#[derive(Debug)]
pub struct Budget {
    left: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { left: FULL_BUDGET }
    }
}

impl Budget {
    pub fn with_bytes(left: usize) -> Budget {
        Budget { left }
    }

    /// `c` as it goes to the UI: whole while the budget lasts, compact after.
    pub fn arrive(&mut self, c: Connection) -> Arrived {
        let cost = full_cost(&c);
        if cost <= self.left {
            self.left -= cost;
            return Arrived::whole(c);
        }
        self.left = 0;
        compact(c)
    }
}

/// Rough heap cost of a whole record (summary, transitions, packet records, exchanges).
fn full_cost(c: &Connection) -> usize {
    1024 + 112 * packets(c).len() + 1024 * c.http.len()
}

/// Keep only what the table needs of `c`: its row, HTTP words and packet times.
pub fn compact(c: Connection) -> Arrived {
    Arrived {
        row: RowInfo::of(&c, NO_RECORD),
        words: http_words(&c),
        ticks: packets(&c).iter().map(|p| (p.frame, p.ts)).collect(),
        conn: None,
    }
}

/// The whole analysis of compact connection `c`, made again from the file: its frames
/// (first to last, on its 4-tuple) through a fresh pipeline. (A TUI shows one capture,
/// so the record names no `file`.)
pub fn reanalyse(source: &Source, c: &RowInfo) -> Result<Connection, String> {
    if matches!(source, Source::Stdin) {
        return Err("standard input cannot be read again".into());
    }
    let mut cfg = ui_config();
    cfg.max_connections = usize::MAX / 4;
    let mut an = Analyzer::new(&c.client.to_string(), cfg);
    let (first, last) = (c.first_frame, c.last_frame);
    let ends = [(c.client, c.server), (c.server, c.client)];
    let mut feed = |p: &RawPacket<'_>| {
        if p.index > last {
            return ControlFlow::Break(());
        }
        if p.index >= first && on_tuple(p, &ends) {
            an.on_packet(p);
        }
        ControlFlow::Continue(())
    };
    capture::spool::without_waiting(|| capture::read_source(source, &mut feed))
        .map_err(|e| e.to_string())?;
    let (_, conns) = an.finish();
    let mut full = conns
        .into_iter()
        .find(|x| x.first_frame == first)
        .ok_or_else(|| format!("connection {} not found again in the file", c.id))?;
    full.id = c.id;
    full.evicted = c.evicted();
    full.port_reuse_of = c.port_reuse_of();
    if c.app == crate::http::AppProto::FtpData {
        full.app = c.app;
        full.http.clear();
    }
    Ok(full)
}

/// Whether packet `p` is a TCP segment between the two endpoints of `ends`, or an IP
/// fragment between their hosts (which may hold a piece of one of its segments).
fn on_tuple(p: &RawPacket<'_>, ends: &[(crate::flow::Endpoint, crate::flow::Endpoint); 2]) -> bool {
    let d = crate::decode::decode(p.linktype, p.data, p.orig_len);
    let (Some(ip), Some(seg)) = (d.ip, d.tcp.as_ref()) else {
        let key = crate::flow::FlowKey::new(ends[0].0, ends[0].1);
        return d.ip.is_some_and(|i| i.fragment && key.joins(i.src, i.dst));
    };
    let e = crate::flow::endpoints(&ip, seg);
    ends.contains(&e)
}
