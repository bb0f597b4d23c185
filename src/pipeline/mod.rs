//! The headless pipeline: raw packets in, connection records and capture facts out.
//!
//! Owns the capture-wide counters and the table of live connections; drives `decode`,
//! `flow` and the `tcp` engine for each packet. The same driver feeds the reports, the
//! tests and (later) the TUI. No I/O here: packets are handed in by the caller.

use crate::capture::{RawPacket, linktype_name};
use crate::decode::{self, Kind};
use crate::flow::{ConnId, Ended, FlowTable, TombLimits};
use crate::http::{AppProto, HttpConfig};
use crate::tcp::{EngineConfig, TcpConn};
use crate::ts::Ts;
use std::collections::BTreeMap;

mod budget;
mod connection;
mod h2;
mod snapshot;
mod stats;
mod tls;
use connection::{AppSink, feed_app};
pub use connection::{Connection, PerDir};
pub use h2::H2State;
pub use stats::{BackStep, CaptureStats, TimeOrder};
pub use tls::TlsReplay;

/// Limits and switches of one analysis run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Connections tracked at once; beyond it the longest-idle ones are finished early.
    pub max_connections: usize,
    pub engine: EngineConfig,
    /// Analysis threads for whole-file runs (`headless`); 0 picks one per core (up to 4).
    pub workers: usize,
    /// Parse HTTP out of the reassembled streams.
    pub http: Option<HttpConfig>,
    /// Keep decoded HTTP bodies of finished connections (export, TUI); off for reports.
    pub keep_bodies: bool,
    /// A closed connection (RST, or both FINs acknowledged) is finished once this much
    /// packet time has passed without a packet for it (late retransmissions stay in it).
    pub closed_linger_ns: i64,
    /// An open connection with no packet for this long (packet time) is finished.
    pub idle_timeout_ns: i64,
    /// A connection whose handshake never completed, idle this long, is finished.
    pub half_open_timeout_ns: i64,
    /// TLS secrets (`--keylog`, `SSLKEYLOGFILE`, pcapng Decryption Secrets Blocks).
    pub keylog: Option<std::sync::Arc<crate::tls::KeyLog>>,
    /// Live capture: a connection is finished the moment it closes (RST, or both FINs
    /// acknowledged); its tuple is remembered for `closed_linger_ns` so that late packets
    /// (TIME-WAIT) are counted against it. Off (files): it stays tracked that long, and
    /// late packets are analysed in it.
    pub finish_on_close: bool,
    /// Hand finished connections on in id order (files: the same bytes whatever
    /// `--threads`). Off (live capture): at once, so that one long connection does not
    /// hold every later one back in memory.
    pub in_id_order: bool,
}

impl Config {
    /// The settings of a live capture: connections finished and handed on as soon as
    /// they close, whatever is still open.
    pub fn for_live(mut self) -> Self {
        self.finish_on_close = true;
        self.in_id_order = false;
        self
    }

    /// How long the tuples of finished connections are remembered, and how many.
    fn tomb_limits(&self) -> TombLimits {
        TombLimits {
            closed_linger_ns: self.closed_linger_ns,
            evicted_linger_ns: self.idle_timeout_ns,
            cap: self.max_connections.saturating_mul(2).max(1024),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_connections: 100_000,
            engine: EngineConfig::default(),
            workers: 0,
            http: Some(HttpConfig::default()),
            keep_bodies: false,
            closed_linger_ns: 4_000_000_000,
            idle_timeout_ns: 600_000_000_000,
            half_open_timeout_ns: 60_000_000_000,
            keylog: crate::tls::keylog::run_keys(),
            finish_on_close: false,
            in_id_order: true,
        }
    }
}

/// The pipeline for one capture.
pub struct Analyzer<'a> {
    cfg: Config,
    flows: FlowTable,
    /// Boxed: the table's slack (up to half its buckets) then costs 8 bytes a bucket,
    /// not a whole `Connection` (docs/memory.md).
    live: foldhash::HashMap<ConnId, Box<Connection>>,
    /// Finished connections waiting for every lower id to finish, so they leave in id order.
    done: BTreeMap<ConnId, Connection>,
    /// The next id to hand out.
    next_emit: ConnId,
    /// Where finished connections go, in id order; without one they are kept for `finish`.
    emit: Option<Box<dyn FnMut(Connection) + 'a>>,
    kept: Vec<Connection>,
    /// The HTTP assembler settings each connection gets (None: no HTTP parsing).
    http_cfg: Option<HttpConfig>,
    /// Frame number of the last packet seen.
    last_frame: u64,
    /// Link type of the last packet seen (the capture-wide list is looked up on a change).
    last_linktype: Option<u32>,
    /// Packet time of the last expiry sweep.
    last_sweep: SweepClock,
    /// A parallel shard: expiry sweeps come only through `tick`, at the moments the
    /// reader (who sees every packet) picks, so they are those of a single-threaded run.
    shard: bool,
    /// Data endpoints announced by FTP control connections handed on so far (not in a
    /// parallel shard: the merge keeps the whole capture's).
    ftp_data: crate::ftp::DataBook,
    /// Capture-wide time order; None in a parallel shard (the reader keeps it there).
    time: Option<TimeOrder>,
    /// IP fragments of TCP segments being put back together (not in a parallel shard:
    /// the reader does it there, before it picks a worker; `parallel.rs`).
    defrag: decode::defrag::Defrag,
    pub stats: CaptureStats,
}

/// How often (in packet time) live connections are checked for expiry.
const SWEEP_EVERY_NS: i64 = 1_000_000_000;

/// When to sweep for expired connections: at the first packet at least `SWEEP_EVERY_NS`
/// of packet time after the last sweep. One rule for the analyzer and the parallel reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct SweepClock(Option<Ts>);

impl SweepClock {
    /// Whether a sweep is due at a packet stamped `ts` (and if so, it counts as done).
    pub fn due(&mut self, ts: Ts) -> bool {
        match self.0 {
            None => {
                self.0 = Some(ts);
                false
            }
            Some(t) if ts.0.saturating_sub(t.0) >= SWEEP_EVERY_NS => {
                self.0 = Some(ts);
                true
            }
            _ => false,
        }
    }
}

impl<'a> Analyzer<'a> {
    pub fn new(file: &str, cfg: Config) -> Self {
        let http_cfg = cfg.http.clone().map(|mut h| {
            // Reports need sizes and hashes, not the bytes.
            h.keep_bodies &= cfg.keep_bodies;
            h
        });
        let tombs = cfg.tomb_limits();
        Analyzer {
            http_cfg,
            cfg,
            flows: FlowTable::with_limits(tombs),
            live: foldhash::HashMap::default(),
            done: BTreeMap::new(),
            next_emit: 1,
            emit: None,
            kept: Vec::new(),
            last_sweep: SweepClock::default(),
            shard: false,
            ftp_data: Default::default(),
            last_frame: 0,
            last_linktype: None,
            time: Some(TimeOrder::default()),
            defrag: Default::default(),
            stats: CaptureStats {
                file: file.to_string(),
                ..Default::default()
            },
        }
    }

    pub fn on_packet(&mut self, pkt: &RawPacket<'_>) {
        self.last_frame = pkt.index;
        self.count_packet(pkt);
        if !self.shard && self.last_sweep.due(pkt.ts) {
            self.sweep(pkt.ts);
        }
        let d = decode::decode(pkt.linktype, pkt.data, pkt.orig_len);
        let Some((ip, seg)) = self.tcp_of(&d) else {
            if !self.shard && d.ip.is_some_and(|i| i.fragment) {
                self.defragment(pkt);
            }
            return;
        };
        self.on_segment(ip, seg, pkt);
    }

    /// A fragment: when it completes its datagram, the TCP segment they carried is
    /// analysed as one packet of the last fragment's frame.
    fn defragment(&mut self, pkt: &RawPacket<'_>) {
        let Some(f) = decode::defrag::fragment(pkt.linktype, pkt.data) else {
            return;
        };
        let dropped = self.defrag.dropped;
        let whole = self.defrag.push(f, pkt.ts);
        self.stats.fragments_given_up += self.defrag.dropped - dropped;
        if let Some(bytes) = whole {
            self.on_reassembled(pkt.index, pkt.ts, &bytes);
        }
    }

    /// A TCP segment put back together from IP fragments (`bytes`: the whole IP packet),
    /// analysed as a packet of frame `index`, the last fragment's; its fragments were
    /// counted as they came. In a parallel shard the reader hands these over.
    pub fn on_reassembled(&mut self, index: u64, ts: Ts, bytes: &[u8]) {
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        let d = decode::decode(crate::decode::link::LINKTYPE_RAW, bytes, len);
        let (Some(ip), Some(seg)) = (d.ip, d.tcp.as_ref()) else {
            return;
        };
        self.stats.ip_datagrams_reassembled += 1;
        let pkt = RawPacket {
            index,
            ts,
            linktype: crate::decode::link::LINKTYPE_RAW,
            orig_len: len,
            data: bytes,
        };
        self.on_segment(ip, seg, &pkt);
    }

    /// One TCP segment of `pkt`, into its connection.
    fn on_segment(
        &mut self,
        ip: decode::IpInfo,
        seg: &decode::TcpSegment<'_>,
        pkt: &RawPacket<'_>,
    ) {
        let (src, dst) = crate::flow::endpoints(&ip, seg);
        let (syn, ack) = (seg.flags.syn(), seg.flags.ack());
        let look = self.flows.lookup(src, dst, syn, ack, seg.seq, pkt.ts.0);
        if let Some(why) = look.late {
            match why {
                Ended::Evicted => self.stats.packets_after_eviction += 1,
                Ended::Closed => self.stats.packets_after_close += 1,
            }
            return;
        }
        if let Some(old) = look.replaces {
            self.finish_conn(old, None);
        }
        if let Some(roles) = &look.roles {
            self.open_conn(&look, roles, pkt);
        }
        let Some(c) = self.live.get_mut(&look.conn) else {
            return;
        };
        c.count(look.dir, seg, pkt);
        // A header cut inside its first 20 bytes has no trustworthy seq/ack/flags: the
        // packet counts for its connection but is not analysed.
        let keys = self.cfg.keylog.as_ref();
        if !seg.partial_header && c.on_segment(look.dir, seg, pkt, self.http_cfg.as_ref(), keys) {
            self.flows.mark_closed(src, dst);
            if self.cfg.finish_on_close && c.tcp.as_ref().is_some_and(|t| t.is_closed()) {
                self.finish_conn(look.conn, Some(Ended::Closed));
            }
        }
    }

    /// The capture-wide counts and times of one packet.
    fn count_packet(&mut self, pkt: &RawPacket<'_>) {
        let st = &mut self.stats;
        st.packets += 1;
        if self.last_linktype != Some(pkt.linktype) {
            self.last_linktype = Some(pkt.linktype);
            if let std::collections::btree_map::Entry::Vacant(e) =
                st.linktype_first.entry(pkt.linktype)
            {
                e.insert(pkt.index);
                st.linktypes.push(linktype_name(pkt.linktype));
            }
        }
        match self.time.as_mut() {
            Some(t) => {
                t.on_packet(pkt.index, pkt.ts);
                t.write_counts(st);
            }
            None => {
                st.first_ts = Some(st.first_ts.map_or(pkt.ts, |f| f.min(pkt.ts)));
                st.last_ts = st.last_ts.max(Some(pkt.ts));
            }
        }
    }

    /// The packet's IP header and TCP segment, counting what is skipped or malformed.
    fn tcp_of<'d>(
        &mut self,
        d: &'d decode::Decoded<'_>,
    ) -> Option<(decode::IpInfo, &'d decode::TcpSegment<'d>)> {
        let st = &mut self.stats;
        if d.truncated {
            st.truncated_packets += 1;
        }
        if d.ip.is_some_and(|i| i.fragment) {
            st.ip_fragments += 1;
        }
        if let Some(name) = d.encap {
            *st.encapsulated.entry(name).or_insert(0) += 1;
        }
        if d.kind != Kind::Tcp {
            *st.skipped.entry(d.kind.skip_key()).or_insert(0) += 1;
            return None;
        }
        st.tcp_packets += 1;
        let (Some(ip), Some(seg)) = (d.ip, d.tcp.as_ref()) else {
            if d.error.is_some() {
                st.malformed_tcp += 1;
            }
            return None;
        };
        Some((ip, seg))
    }

    /// A connection opened by this packet.
    fn open_conn(
        &mut self,
        look: &crate::flow::Lookup,
        roles: &crate::flow::Roles,
        pkt: &RawPacket<'_>,
    ) {
        self.stats.connections += 1;
        // Make room first: the connection being opened is never the one evicted.
        if self.live.len() >= self.cfg.max_connections {
            self.evict();
        }
        self.live.insert(
            look.conn,
            Box::new(Connection {
                id: look.conn,
                file: None,
                client: roles.client,
                server: roles.server,
                role_guessed: roles.guessed,
                port_reuse_of: look.reuse_of,
                evicted: false,
                first_frame: pkt.index,
                last_frame: pkt.index,
                start_ts: pkt.ts,
                end_ts: pkt.ts,
                timestamps_backwards: 0,
                packets: PerDir::default(),
                payload_bytes: PerDir::default(),
                tcp: Some(Box::new(TcpConn::new(self.cfg.engine))),
                summary: None,
                app: AppProto::Unknown,
                http: Vec::new(),
                h2_live: None,
                released: false,
                http_live: None,
                ftp: None,
                tls: None,
            }),
        );
        if self.cfg.finish_on_close {
            let p = self.stats.peak_tracked_connections.get_or_insert(0);
            *p = (*p).max(self.live.len() as u64);
        }
    }

    /// Finish a live connection. With `why`, its tuple is remembered (a tombstone) so
    /// that its later packets are counted against it; without, it is forgotten.
    fn finish_conn(&mut self, id: ConnId, why: Option<Ended>) {
        if let Some(c) = self.live.remove(&id) {
            let mut c = *c;
            match why {
                Some(w) => self.flows.bury(c.client, c.server, id, w, c.end_ts.0),
                None => self.flows.remove(c.client, c.server, id),
            }
            if let Some(mut tcp) = c.tcp.take() {
                let mut app = AppSink {
                    http: &mut c.http_live,
                    h2: &mut c.h2_live,
                    ftp: &mut c.ftp,
                    ends: (c.client, c.server),
                    tls: &mut c.tls,
                    keys: self.cfg.keylog.as_ref(),
                };
                let http_cfg = self.http_cfg.as_ref();
                let ts = c.end_ts;
                tcp.finish(&mut |d, ev| feed_app(&mut app, http_cfg, d, ev, ts));
                let sum = tcp.into_summary();
                self.stats.measurements_skipped +=
                    u64::from(sum.rtt.samples_skipped) + u64::from(sum.handshake.timings_skipped);
                c.summary = Some(Box::new(sum));
            }
            c.settle_app(self.http_cfg.as_ref());
            c.finish_tls(c.end_ts);
            self.stats.measurements_skipped += c
                .http
                .iter()
                .map(|x| u64::from(x.timings_skipped))
                .sum::<u64>();
            if self.cfg.in_id_order {
                self.done.insert(c.id, c);
                self.drain_in_order();
            } else {
                self.hand_on(c);
            }
        }
    }

    /// Finish connections that are closed and quiet, or idle too long, on packet time.
    fn sweep(&mut self, now: Ts) {
        let cfg = &self.cfg;
        let expired: Vec<ConnId> = self
            .live
            .values()
            .filter(|c| {
                let idle = now.0.saturating_sub(c.end_ts.0);
                let Some(tcp) = c.tcp.as_ref() else {
                    return true;
                };
                if tcp.is_closed() {
                    idle >= cfg.closed_linger_ns
                } else if !tcp.handshake.is_complete() && tcp.handshake.syn_frame.is_some() {
                    idle >= cfg.half_open_timeout_ns
                } else {
                    idle >= cfg.idle_timeout_ns
                }
            })
            .map(|c| c.id)
            .collect();
        for id in expired {
            self.stats.expired_connections += 1;
            self.finish_conn(id, None);
        }
        self.flows.expire_tombs(now.0);
        self.stats.tuples_forgotten = self.flows.tombstones_forgotten();
    }

    /// Too many connections at once: finish the longest-idle tenth.
    /// Half-open connections (a SYN flood's) go before established ones, each group
    /// longest-idle first.
    fn evict(&mut self) {
        let mut idle: Vec<(bool, Ts, ConnId)> = self
            .live
            .values()
            .map(|c| {
                let established = c.tcp.as_ref().is_some_and(|t| t.handshake.is_complete());
                (established, c.end_ts, c.id)
            })
            .collect();
        let n = (self.cfg.max_connections / 10).max(1);
        if n < idle.len() {
            idle.select_nth_unstable(n);
        }
        let n = (self.cfg.max_connections / 10).max(1);
        for (_, _, id) in idle.into_iter().take(n) {
            self.stats.evicted_connections += 1;
            if let Some(c) = self.live.get_mut(&id) {
                c.evicted = true;
            }
            self.finish_conn(id, Some(Ended::Evicted));
        }
    }

    /// No connection this analyzer has yet to hand out can have a first frame below this:
    /// the smallest first frame still live or waiting, else the frame after the last seen.
    ///
    /// Ids are given in order of first frame (the flow table counts connections as their
    /// first packets come), so the smallest id has the smallest first frame: the live table
    /// is scanned by key only, without reading each connection (a cache miss apiece, every
    /// batch, was 0.7% of a 2-worker report's CPU time on the shared benchmark).
    pub fn low_water(&self) -> u64 {
        let live = self
            .live
            .keys()
            .min()
            .and_then(|id| self.live.get(id))
            .map(|c| c.first_frame);
        let waiting = self.done.first_key_value().map(|(_, c)| c.first_frame);
        debug_assert_eq!(live, self.live.values().map(|c| c.first_frame).min());
        debug_assert_eq!(waiting, self.done.values().map(|c| c.first_frame).min());
        [live, waiting]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.last_frame + 1)
    }

    /// Connections tracked right now.
    pub fn live_connections(&self) -> usize {
        self.live.len()
    }

    /// Run the expiry sweep as of `now` without a packet. Live capture calls it on
    /// wall-clock ticks, so closed and idle connections are finished on a quiet link too.
    pub fn tick(&mut self, now: Ts) {
        self.last_sweep = SweepClock(Some(now));
        self.sweep(now);
    }

    /// A parallel shard sees only some packets: the reader keeps the capture's time order
    /// and picks the expiry sweeps (handed in through `tick`).
    pub fn as_shard(&mut self) {
        self.time = None;
        self.shard = true;
    }

    /// Add a warning from the reader (e.g. a file cut short).
    pub fn warn(&mut self, w: String) {
        self.stats.warnings.push(w);
    }

    /// End of capture: every connection, in id order, and the capture facts.
    /// Hand finished connections on in id order, as far as no lower id is still live.
    fn drain_in_order(&mut self) {
        while let Some(c) = self.done.remove(&self.next_emit) {
            self.next_emit += 1;
            self.hand_on(c);
        }
    }

    /// Label a finished connection and give it to the stream (or keep it).
    fn hand_on(&mut self, mut c: Connection) {
        if !self.shard {
            label_ftp_data(&mut self.ftp_data, &mut c);
        }
        match self.emit.as_mut() {
            Some(f) => f(c),
            None => self.kept.push(c),
        }
    }

    /// Send each finished connection to `f` (in id order) as soon as it and every lower id
    /// are finished, instead of keeping them: memory stays bounded by open connections.
    pub fn stream_to(&mut self, f: impl FnMut(Connection) + 'a) {
        self.emit = Some(Box::new(f));
    }

    /// End of capture: every connection, in id order (those not already streamed), and the
    /// capture facts.
    pub fn finish(mut self) -> (CaptureStats, Vec<Connection>) {
        let mut ids: Vec<ConnId> = self.live.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.finish_conn(id, None);
        }
        self.stats.tuples_forgotten = self.flows.tombstones_forgotten();
        // Datagrams still missing a fragment when the capture ends.
        self.stats.fragments_given_up += self.defrag.pending() as u64;
        self.drain_in_order();
        if let Some(t) = &self.time {
            t.finish_into(&mut self.stats);
        }
        (self.stats, self.kept)
    }
}

/// Label `c` as `ftp-data` when an earlier control connection announced its endpoint
/// (a file's bytes that happen to look like HTTP are still a file), then remember what
/// `c` announces if it is a control connection. Connections pass in id order.
pub(crate) fn label_ftp_data(book: &mut crate::ftp::DataBook, c: &mut Connection) {
    if book.is_data(c.server, c.client, c.role_guessed, c.first_frame, c.app) {
        c.app = AppProto::FtpData;
        c.http.clear();
    }
    if let Some(ftp) = c.ftp.take() {
        book.learn(&ftp);
    }
}
