//! Several captures read as one, merged by timestamp as `mergecap` merges them: of the
//! next packets of every file, the earliest goes first (the first file's on a tie), and
//! frames are numbered 1, 2, … in that merged order, so they are the frame numbers of
//! `mergecap -w merged.pcap a.pcap b.pcap` opened in Wireshark.
//!
//! Each file is read on its own thread into a bounded channel of small batches (memory:
//! a few batches per file, whatever the files' sizes); the caller's thread merges.

use super::{CaptureError, RawPacket, ReadSummary, Source, classic::Handler};
use crate::ts::Ts;
use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::mpsc::{Receiver, sync_channel};

struct Owned {
    ts: Ts,
    linktype: u32,
    orig_len: u32,
    data: Vec<u8>,
}

const BATCH: usize = 512;

/// The packets of every source in `all`, merged by time.
pub(super) fn read(all: &[Source], f: &mut Handler<'_>) -> Result<ReadSummary, CaptureError> {
    // A file that cannot be opened stops the merge before any packet is handed out.
    for src in all {
        if let Source::File(p) = src {
            super::precheck(p, &src.display())?;
        }
    }
    std::thread::scope(|scope| {
        let mut readers = Vec::with_capacity(all.len());
        let mut heads: Vec<Head> = Vec::with_capacity(all.len());
        for src in all {
            let (tx, rx) = sync_channel::<Vec<Owned>>(4);
            heads.push(Head {
                rx,
                queue: VecDeque::new(),
                done: false,
            });
            readers.push(scope.spawn(move || {
                let mut batch = Vec::with_capacity(BATCH);
                let res = super::read_any(src, &mut |p, _| {
                    batch.push(Owned {
                        ts: p.ts,
                        linktype: p.linktype,
                        orig_len: p.orig_len,
                        data: p.data.to_vec(),
                    });
                    if batch.len() >= BATCH
                        && tx
                            .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                            .is_err()
                    {
                        return ControlFlow::Break(());
                    }
                    ControlFlow::Continue(())
                });
                if !batch.is_empty() {
                    let _ = tx.send(batch);
                }
                res
            }));
        }
        let packets = interleave(&mut heads, f);
        // Whoever still sends (reading stopped early) sees the channel closed and stops.
        drop(heads);
        let mut summary = ReadSummary {
            reader: "merge",
            packets,
            ..Default::default()
        };
        for (src, r) in all.iter().zip(readers) {
            let s = r.join().unwrap_or_else(|_| {
                Err(CaptureError::Unreadable {
                    file: src.display(),
                    detail: "the reader thread failed".into(),
                })
            })?;
            let name = src.display();
            summary
                .warnings
                .extend(s.warnings.into_iter().map(|w| format!("{name}: {w}")));
        }
        Ok(summary)
    })
}

/// One file's packets waiting to be merged.
struct Head {
    rx: Receiver<Vec<Owned>>,
    queue: VecDeque<Owned>,
    done: bool,
}

impl Head {
    /// The time of this file's next packet, waiting for it if needed; None at its end.
    fn next_ts(&mut self) -> Option<Ts> {
        while self.queue.is_empty() && !self.done {
            match self.rx.recv() {
                Ok(b) => self.queue.extend(b),
                Err(_) => self.done = true,
            }
        }
        self.queue.front().map(|p| p.ts)
    }
}

/// Hand out the earliest next packet of all files until every file ends or `f` stops;
/// the packets handed out.
fn interleave(heads: &mut [Head], f: &mut Handler<'_>) -> u64 {
    let mut index = 0u64;
    loop {
        let mut best: Option<(usize, Ts)> = None;
        for (i, h) in heads.iter_mut().enumerate() {
            if let Some(ts) = h.next_ts()
                && best.is_none_or(|(_, b)| ts < b)
            {
                best = Some((i, ts));
            }
        }
        let Some((i, _)) = best else {
            return index;
        };
        let Some(p) = heads[i].queue.pop_front() else {
            return index;
        };
        index += 1;
        let raw = RawPacket {
            index,
            ts: p.ts,
            linktype: p.linktype,
            orig_len: p.orig_len,
            data: &p.data,
        };
        if f(&raw, None).is_break() {
            return index;
        }
    }
}
