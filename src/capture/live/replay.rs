//! A live capture whose packets come from the caller instead of an interface: the same
//! channel, batches, frame numbering, stop flag and `--duration` as a real capture, each
//! packet stamped with the wall clock as it is handed over. For tests and benchmarks of
//! the live path (`cmd::live::report_on`, the TUI) without root or a network.

use super::{BATCH_PACKETS, Batch, CHANNEL_BATCHES, Event, Live, LiveStats, Rec, StopReason};
use crate::ts::Ts;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::{Duration, Instant};

impl Live {
    /// Capture `frames` (whole frames of link type `linktype`, e.g. 1 for Ethernet) as if
    /// they arrived now, as fast as the consumer takes them, until they run out, the
    /// capture is stopped, or `duration` ends. An empty frame is a pause: the packets
    /// batched so far are handed over at once (as a capture does at each poll).
    pub fn replay(
        name: &str,
        linktype: u32,
        frames: impl Iterator<Item = Vec<u8>> + Send + 'static,
        duration: Option<Duration>,
    ) -> std::io::Result<Live> {
        let (tx, rx) = sync_channel(CHANNEL_BATCHES);
        let stop = Arc::new(AtomicBool::new(false));
        let deadline = duration.map(|d| Instant::now() + d);
        let st = stop.clone();
        let thread = std::thread::Builder::new()
            .name("tcpscope-replay".into())
            .spawn(move || feed(frames, linktype, deadline, &st, &tx))?;
        Ok(Live {
            interface: name.to_string(),
            default_device: false,
            rx,
            deadline,
            stop,
            thread: Some(thread),
        })
    }
}

fn feed(
    frames: impl Iterator<Item = Vec<u8>>,
    linktype: u32,
    deadline: Option<Instant>,
    stop: &AtomicBool,
    tx: &SyncSender<Event>,
) {
    let mut stats = LiveStats::default();
    let mut batch = Batch {
        linktype,
        ..Default::default()
    };
    let mut reason = StopReason::Count;
    for f in frames {
        if f.is_empty() {
            // A pause in the traffic: what is batched is handed over now.
            let part = std::mem::replace(
                &mut batch,
                Batch {
                    linktype,
                    ..Default::default()
                },
            );
            if !part.is_empty() && tx.send(Event::Packets(part)).is_err() {
                return;
            }
            continue;
        }
        if stop.load(Ordering::SeqCst) {
            reason = StopReason::Requested;
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            reason = StopReason::Duration;
            break;
        }
        stats.captured += 1;
        let len = f.len();
        batch.recs.push(Rec {
            index: stats.captured,
            ts: Ts::now(),
            orig_len: u32::try_from(len).unwrap_or(u32::MAX),
            off: batch.data.len(),
            len,
        });
        batch.data.extend_from_slice(&f);
        if batch.len() >= BATCH_PACKETS {
            let full = std::mem::replace(
                &mut batch,
                Batch {
                    linktype,
                    ..Default::default()
                },
            );
            if tx.send(Event::Packets(full)).is_err() {
                return;
            }
            let _ = tx.try_send(Event::Stats(stats));
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Event::Packets(batch));
    }
    let _ = tx.send(Event::Stopped(reason, stats));
}
