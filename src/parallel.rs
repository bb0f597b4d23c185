//! The pipeline on several cores: connections are sharded over worker threads by a
//! symmetric hash of their endpoints, each worker runs its own `Analyzer`, and the
//! results are merged back into one stream in order of first packet, so the output is
//! the same as a single-threaded run (ids are given in order of first frame, as there).
//!
//! Threads: the caller's thread reads the capture and routes packets in batches over
//! bounded channels; workers analyse; the caller merges. No I/O beyond the reader.

use crate::capture::{self, Block, CaptureError, RawPacket, Source};
use crate::decode;
use crate::pipeline::{Analyzer, CaptureStats, Config, Connection, SweepClock, TimeOrder};
use crate::ts::Ts;
use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Packets handed from the reader to one worker: ranges of the reader's current block
/// (no copy), or copies when the reader has no block to share (pcapng, libpcap).
#[derive(Default)]
struct Batch {
    /// The block `shared` packets lie in. A batch is sent when the reader moves to the
    /// next block, so it holds one, and the blocks alive are those of packets in flight.
    block: Option<Block>,
    bytes: Vec<u8>,
    pkts: Vec<Pkt>,
    /// Expiry sweeps: (index into `pkts` they come before, packet time).
    ticks: Vec<(usize, Ts)>,
}

/// One packet of a batch: its bytes are `start..end` of the block (`shared`) or of
/// `bytes`.
struct Pkt {
    index: u64,
    ts: Ts,
    linktype: u32,
    orig_len: u32,
    shared: bool,
    /// A TCP segment the reader put back together from IP fragments (its bytes are a
    /// whole IP packet), analysed as a packet of frame `index` but not counted as one.
    reassembled: bool,
    start: usize,
    end: usize,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.pkts.is_empty() && self.ticks.is_empty()
    }

    /// Add `p`, by reference when it lies in `block`.
    fn push(&mut self, p: &RawPacket<'_>, block: Option<&Block>) {
        let at = block.and_then(|b| b.offset_of(p.data).map(|o| (b, o)));
        let (shared, start) = match at {
            Some((b, o)) => {
                // The reader sends a batch before it moves to another block.
                debug_assert!(self.block.as_ref().is_none_or(|mine| mine.same(b)));
                if self.block.is_none() {
                    self.block = Some(b.clone());
                }
                (true, o)
            }
            None => {
                let o = self.bytes.len();
                self.bytes.extend_from_slice(p.data);
                (false, o)
            }
        };
        self.pkts.push(Pkt {
            index: p.index,
            ts: p.ts,
            linktype: p.linktype,
            orig_len: p.orig_len,
            shared,
            reassembled: false,
            start,
            end: start + p.data.len(),
        });
    }

    /// Add a TCP segment put back together from fragments, the last of which is `last`
    /// (copied: its bytes lie in no block).
    fn push_reassembled(&mut self, last: &RawPacket<'_>, ip: &[u8]) {
        let whole = RawPacket {
            linktype: decode::link::LINKTYPE_RAW,
            orig_len: u32::try_from(ip.len()).unwrap_or(u32::MAX),
            data: ip,
            ..*last
        };
        self.push(&whole, None);
        if let Some(p) = self.pkts.last_mut() {
            p.reassembled = true;
        }
    }

    fn full(&self) -> bool {
        self.bytes.len() >= BATCH_BYTES
            || self.pkts.len() >= BATCH_PKTS
            || self.ticks.len() >= BATCH_PKTS
    }
}

/// Connections a worker sends in one message at most.
const CONNS_A_MESSAGE: usize = 64;

const BATCH_BYTES: usize = 1024 * 1024;
const BATCH_PKTS: usize = 8192;

enum Out {
    /// Connections a worker finished, in the order it finished them (at most
    /// `CONNS_A_MESSAGE`), then, at the end of a batch, its watermark: no connection of
    /// this worker still to come has a first frame below it. Sent a batch at a time, not
    /// a connection at a time: each message can wake the merging thread, and those
    /// wake-ups (2,700 of them on the shared benchmark) cost more than the merging.
    Conns(Vec<Connection>, Option<u64>),
    Done(Vec<Connection>, Box<CaptureStats>),
}

/// How far the reader has got, readable from any thread while a run goes on.
#[derive(Debug, Default)]
pub struct ReadProgress {
    pub packets: std::sync::atomic::AtomicU64,
    /// Bytes of the file consumed (record headers + captured bytes, approximately).
    pub bytes: std::sync::atomic::AtomicU64,
    /// Set by anyone to end reading early (the output pipe closed, the user quit).
    pub stop: std::sync::atomic::AtomicBool,
}

/// Packets and bytes one reader counted and has not yet published in [`ReadProgress`].
#[derive(Default)]
pub struct Tally {
    packets: u64,
    bytes: u64,
}

impl ReadProgress {
    /// Count one packet read (16 bytes of record header plus its captured bytes) in the
    /// local `t`, published every 256 packets: two atomic additions a packet on the
    /// reader thread are saved. True when reading should stop. Call
    /// [`ReadProgress::publish`] when reading ends, so that the final count is exact.
    pub fn tally_batched(&self, t: &mut Tally, p: &RawPacket<'_>) -> bool {
        t.packets += 1;
        t.bytes += 16 + p.data.len() as u64;
        if t.packets >= 256 {
            self.publish(t);
        }
        self.stop.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Add what `t` counted to the shared progress.
    pub fn publish(&self, t: &mut Tally) {
        use std::sync::atomic::Ordering::Relaxed;
        self.packets.fetch_add(t.packets, Relaxed);
        self.bytes.fetch_add(t.bytes, Relaxed);
        *t = Tally::default();
    }
}

/// Worker count worth using on this machine (1 means: run single-threaded).
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Which worker a packet belongs to: both directions of a connection hash alike. What
/// is certainly not a TCP segment goes to worker 0 undecoded; only frames whose headers
/// cannot be read in place (IPv6 extension headers, MACsec, deep VLAN stacks) are decoded
/// here, which the worker then does again.
///
/// `None` when the frame is no TCP segment (it goes to worker 0): only such a frame can be
/// an IP fragment, which the reader then looks at.
fn route(linktype: u32, data: &[u8], orig_len: u32, workers: usize) -> Option<usize> {
    if workers <= 1 {
        return Some(0);
    }
    let h = match decode::shard_key(linktype, data) {
        decode::ShardKey::Tcp(h) => h,
        decode::ShardKey::NotTcp => return None,
        decode::ShardKey::Unsure => {
            let d = decode::decode(linktype, data, orig_len);
            let (Some(ip), Some(tcp)) = (d.ip, d.tcp.as_ref()) else {
                return None;
            };
            decode::hash_ip_endpoints((ip.src, tcp.src_port), (ip.dst, tcp.dst_port))
        }
    };
    Some((spread(h) % workers as u64) as usize)
}

/// The endpoints' hash with its bits mixed (splitmix64's finaliser) before the worker is
/// picked from its remainder: an unmixed hash's low bits follow a few input bits (the
/// byte-wise FNV-1a used first split the shared benchmark's connections 1286 / 1114 on 2
/// workers, and the busier one ran alone for the last ~7% of the run); mixed, 1221 / 1179.
fn spread(h: u64) -> u64 {
    let z = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn worker(
    id: usize,
    name: String,
    cfg: Config,
    rx: Receiver<Batch>,
    out: SyncSender<(usize, Out)>,
    recycle: SyncSender<Batch>,
) {
    let mut an = Analyzer::new(&name, cfg);
    an.as_shard();
    let finished = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let (sink, early) = (std::rc::Rc::clone(&finished), out.clone());
    an.stream_to(move |c| {
        let mut v = sink.borrow_mut();
        v.push(c);
        // Many at once (an eviction finishes a tenth of the table): sent on, so what
        // waits in the channel stays bounded.
        if v.len() >= CONNS_A_MESSAGE {
            let _ = early.send((id, Out::Conns(std::mem::take(&mut *v), None)));
        }
    });
    for batch in rx {
        let mut ticks = batch.ticks.iter().peekable();
        let shared = batch.block.as_ref().map_or(&[][..], Block::bytes);
        for (i, p) in batch.pkts.iter().enumerate() {
            while let Some(&(_, now)) = ticks.next_if(|t| t.0 <= i) {
                an.tick(now);
            }
            let from = if p.shared { shared } else { &batch.bytes };
            if p.reassembled {
                an.on_reassembled(p.index, p.ts, &from[p.start..p.end]);
                continue;
            }
            an.on_packet(&RawPacket {
                index: p.index,
                ts: p.ts,
                linktype: p.linktype,
                orig_len: p.orig_len,
                data: &from[p.start..p.end],
            });
        }
        for &(_, now) in ticks {
            an.tick(now);
        }
        let conns = std::mem::take(&mut *finished.borrow_mut());
        let _ = out.send((id, Out::Conns(conns, Some(an.low_water()))));
        // Hand the emptied buffers back: fresh 1 MiB allocations cost page faults.
        let mut batch = batch;
        batch.block = None;
        batch.bytes.clear();
        batch.pkts.clear();
        batch.ticks.clear();
        let _ = recycle.try_send(batch);
    }
    let (stats, kept) = an.finish();
    debug_assert!(kept.is_empty());
    let conns = std::mem::take(&mut *finished.borrow_mut());
    let _ = out.send((id, Out::Done(conns, Box::new(stats))));
}

/// Read `source` with `workers` analysis threads, handing each connection to `each` in
/// order of first packet (ids renumbered accordingly); returns the merged capture facts.
/// Publishes the reader's progress in `progress` as it goes; setting `progress.stop` ends
/// reading early. Callers go through [`crate::headless::stream_with_progress`], which
/// picks the worker count and runs single-threaded when there is one.
pub fn stream_with_progress(
    source: &Source,
    cfg: Config,
    workers: usize,
    progress: &ReadProgress,
    each: &mut dyn FnMut(Connection),
) -> Result<CaptureStats, CaptureError> {
    let workers = workers.max(1);
    let name = source.display();
    let mut shard_cfg = cfg.clone();
    shard_cfg.max_connections = (cfg.max_connections / workers).max(1);
    // At most this many messages (each at most `CONNS_A_MESSAGE` connections) wait.
    let (out_tx, out_rx) = sync_channel::<(usize, Out)>(16 * workers);
    std::thread::scope(|scope| {
        let mut txs = Vec::with_capacity(workers);
        let (recycle_tx, recycle_rx) = sync_channel::<Batch>(8 * workers);
        for id in 0..workers {
            let (tx, rx) = sync_channel::<Batch>(4);
            txs.push(tx);
            let (name, cfg, out) = (name.clone(), shard_cfg.clone(), out_tx.clone());
            let recycle = recycle_tx.clone();
            scope.spawn(move || worker(id, name, cfg, rx, out, recycle));
        }
        drop(recycle_tx);
        drop(out_tx);
        let reader = scope.spawn(move || read(source, progress, &txs, &recycle_rx));
        let stats = merge(workers, out_rx, each);
        let (summary, time, given_up) = reader.join().unwrap_or_else(|_| {
            Err(CaptureError::Unreadable {
                file: name.clone(),
                detail: "the reader thread failed".into(),
            })
        })?;
        let mut stats = stats;
        stats.file = name.clone();
        stats.warnings.extend(summary.warnings);
        stats.packets_filtered_out = summary.filtered_out;
        stats.fragments_given_up += given_up;
        time.finish_into(&mut stats);
        Ok(stats)
    })
}

/// The reader thread: every packet of `source` routed to its worker's batch (`txs`), the
/// batches handed over when full or when the reader moves to another block; the file's
/// read summary and time order.
fn read(
    source: &Source,
    progress: &ReadProgress,
    txs: &[SyncSender<Batch>],
    recycle_rx: &Receiver<Batch>,
) -> Result<(capture::ReadSummary, TimeOrder, u64), CaptureError> {
    let workers = txs.len();
    let mut batches: Vec<Batch> = (0..workers).map(|_| Batch::default()).collect();
    let mut time = TimeOrder::default();
    let mut sweeps = SweepClock::default();
    let mut current: Option<Block> = None;
    let mut tally = Tally::default();
    // Fragments carry no ports, so their segment's worker is known only once they are put
    // back together: that is done here, where every packet passes.
    let mut defrag = decode::defrag::Defrag::default();
    // Hand `w`'s batch over (a recycled one takes its place); false when that worker is gone.
    let hand_over = |batches: &mut [Batch], w: usize| {
        let fresh = recycle_rx.try_recv().unwrap_or_default();
        txs[w]
            .send(std::mem::replace(&mut batches[w], fresh))
            .is_ok()
    };
    let res = capture::read_source_shared(source, |p, block| {
        if progress.tally_batched(&mut tally, p) {
            return ControlFlow::Break(());
        }
        // A new block: hand over what points into the previous one.
        if let Some(b) = block
            && !current.as_ref().is_some_and(|c| c.same(b))
        {
            current = Some(b.clone());
            for w in 0..workers {
                if !batches[w].is_empty() && !hand_over(&mut batches, w) {
                    return ControlFlow::Break(());
                }
            }
        }
        time.on_packet(p.index, p.ts);
        if sweeps.due(p.ts) {
            // Every shard sweeps here, before this packet, as one analyzer would.
            for b in batches.iter_mut() {
                b.ticks.push((b.pkts.len(), p.ts));
            }
        }
        let tcp = route(p.linktype, p.data, p.orig_len, workers);
        let w = tcp.unwrap_or(0);
        batches[w].push(p, block);
        if batches[w].full() && !hand_over(&mut batches, w) {
            return ControlFlow::Break(());
        }
        // Only a frame that is no TCP segment can be a fragment.
        if tcp.is_none()
            && let Some(f) = decode::defrag::fragment(p.linktype, p.data)
            && let Some(ip) = defrag.push(f, p.ts)
        {
            let len = u32::try_from(ip.len()).unwrap_or(u32::MAX);
            let to = route(decode::link::LINKTYPE_RAW, &ip, len, workers).unwrap_or(0);
            batches[to].push_reassembled(p, &ip);
            if batches[to].full() && !hand_over(&mut batches, to) {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    progress.publish(&mut tally);
    for (w, b) in batches.into_iter().enumerate() {
        if !b.is_empty() {
            let _ = txs[w].send(b);
        }
    }
    // Datagrams still missing a fragment at the end count as given up too.
    res.map(|r| (r, time, defrag.dropped + defrag.pending() as u64))
}

/// The worker whose next connection has the smallest first frame, and that frame.
fn min_head(queues: &[VecDeque<Connection>]) -> Option<(usize, u64)> {
    queues
        .iter()
        .enumerate()
        .filter_map(|(i, q)| q.front().map(|c| (i, c.first_frame)))
        .min_by_key(|&(_, f)| f)
}

/// Merge the workers' connection streams by first frame.
fn merge(
    workers: usize,
    rx: Receiver<(usize, Out)>,
    each: &mut dyn FnMut(Connection),
) -> CaptureStats {
    let mut queues: Vec<VecDeque<Connection>> = (0..workers).map(|_| VecDeque::new()).collect();
    let mut water: Vec<u64> = vec![0; workers];
    let mut done = vec![false; workers];
    let mut stats: Option<CaptureStats> = None;
    let mut next_id = 1;
    let mut ftp_data = crate::ftp::DataBook::default();
    let mut emit = |c: Connection, next_id: &mut u64| {
        let mut c = c;
        crate::pipeline::label_ftp_data(&mut ftp_data, &mut c);
        c.id = *next_id;
        *next_id += 1;
        each(c);
    };
    for (w, msg) in rx.iter() {
        match msg {
            Out::Conns(conns, f) => {
                queues[w].extend(conns);
                if let Some(f) = f {
                    water[w] = f;
                }
            }
            Out::Done(conns, s) => {
                queues[w].extend(conns);
                done[w] = true;
                water[w] = u64::MAX;
                match stats.as_mut() {
                    Some(t) => t.merge(*s),
                    None => stats = Some(*s),
                }
            }
        }
        // Emit while the smallest head cannot be preceded by anything still to come.
        while let Some((w, first)) = min_head(&queues) {
            let bound = (0..workers)
                .filter(|&i| i != w && queues[i].is_empty())
                .map(|i| water[i])
                .min()
                .unwrap_or(u64::MAX);
            if first >= bound {
                break;
            }
            if let Some(c) = queues[w].pop_front() {
                emit(c, &mut next_id);
            }
        }
    }
    // Everything is in: drain by first frame.
    while let Some((w, _)) = min_head(&queues) {
        if let Some(c) = queues[w].pop_front() {
            emit(c, &mut next_id);
        }
    }
    let mut s = stats.unwrap_or_default();
    s.connections = next_id - 1;
    s
}
