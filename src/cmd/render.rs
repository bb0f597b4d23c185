//! JSON and NDJSON records rendered on helper threads, written in order by the caller.
//!
//! A report's connections come out of the merge in order, on one thread; serialising
//! them there made that thread the last one running: a file's connections still open at
//! its end (half of the benchmark's) are all finished at once, and their JSON was then
//! written by one core while the other sat idle (~10% of the run's wall time). Here they
//! are rendered by `threads` helpers and their bytes handed back in submission order.
//! At most `IN_FLIGHT` chunks of `CHUNK` connections are held at once, so memory stays
//! bounded. Connections go to the helpers `CHUNK` at a time: a job a connection woke a
//! helper 2,400 times on the shared benchmark, and those wake-ups cost about as much as
//! the rendering they handed over.

use crate::pipeline::Connection;
use crate::report::{self, Format};
use std::collections::BTreeMap;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::Scope;

/// Chunks handed over and not yet written, at most.
const IN_FLIGHT: u64 = 4;
/// Connections in a chunk.
const CHUNK: usize = 8;

/// A chunk's records, each rendered or not (None: it could not be).
type Rendered = Vec<Option<Vec<u8>>>;

pub struct Pool {
    jobs: Option<SyncSender<(u64, Vec<Connection>)>>,
    done: Receiver<(u64, Rendered)>,
    /// Connections not yet handed over (fewer than `CHUNK`).
    pending: Vec<Connection>,
    sent: u64,
    next: u64,
    ready: BTreeMap<u64, Rendered>,
}

/// A record the helpers could not render (a serialisation error, a helper gone).
fn failed() -> io::Error {
    io::Error::other("a report record could not be rendered")
}

impl Pool {
    /// `threads` helpers in `scope`, rendering records of `format` (JSON or NDJSON).
    pub fn start<'s>(scope: &'s Scope<'s, '_>, threads: usize, format: Format) -> Pool {
        let (jobs, rx) = sync_channel::<(u64, Vec<Connection>)>(IN_FLIGHT as usize);
        let (done_tx, done) = channel();
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..threads.max(1) {
            let (rx, done_tx) = (Arc::clone(&rx), done_tx.clone());
            scope.spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job.
                    let job = rx.lock().ok().and_then(|r| r.recv().ok());
                    let Some((i, chunk)) = job else { break };
                    let mut out = Vec::with_capacity(chunk.len());
                    for c in chunk {
                        // A helper that panicked would leave its record's place empty and
                        // the writer waiting for it: its record becomes an error instead.
                        let render = AssertUnwindSafe(|| report::render(format, &c));
                        out.push(catch_unwind(render).ok().flatten());
                        // Dropped here too: freeing a connection is part of the work shared.
                        drop(c);
                    }
                    if done_tx.send((i, out)).is_err() {
                        break;
                    }
                }
            });
        }
        Pool {
            jobs: Some(jobs),
            done,
            pending: Vec::with_capacity(CHUNK),
            sent: 0,
            next: 0,
            ready: BTreeMap::new(),
        }
    }

    /// Hand `c` to the helpers (with the next ones, `CHUNK` at a time); write (with
    /// `write`) every record ready in order.
    pub fn submit(
        &mut self,
        c: Connection,
        write: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        self.pending.push(c);
        if self.pending.len() < CHUNK {
            return Ok(());
        }
        self.send_pending(write)?;
        while let Ok((i, b)) = self.done.try_recv() {
            self.ready.insert(i, b);
        }
        self.write_ready(write)
    }

    /// The pending connections, handed over as one chunk.
    fn send_pending(&mut self, write: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        while self.sent - self.next >= IN_FLIGHT {
            self.wait(write)?;
        }
        let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK));
        let jobs = self.jobs.as_ref().ok_or_else(failed)?;
        jobs.send((self.sent, chunk)).map_err(|_| failed())?;
        self.sent += 1;
        Ok(())
    }

    /// Every record submitted, written in order; the helpers end.
    pub fn finish(mut self, write: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.send_pending(write)?;
        }
        self.jobs = None;
        while self.next < self.sent {
            self.wait(write)?;
        }
        Ok(())
    }

    /// Wait for one record, then write what is ready.
    fn wait(&mut self, write: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        let (i, b) = self.done.recv().map_err(|_| failed())?;
        self.ready.insert(i, b);
        self.write_ready(write)
    }

    fn write_ready(&mut self, write: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        while let Some(entry) = self.ready.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            let chunk = entry.remove();
            self.next += 1;
            for bytes in chunk {
                write(&bytes.ok_or_else(failed)?)?;
            }
        }
        Ok(())
    }
}
