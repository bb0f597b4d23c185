//! JSON and NDJSON records rendered on helper threads, written in order by the caller.
//!
//! A report's connections come out of the merge in order, on one thread; serialising
//! them there made that thread the last one running: a file's connections still open at
//! its end (half of the benchmark's) are all finished at once, and their JSON was then
//! written by one core while the other sat idle (~10% of the run's wall time). Here they
//! are rendered by `threads` helpers and their bytes handed back in submission order.
//! At most `IN_FLIGHT` connections are held at once, so memory stays bounded.

use crate::pipeline::Connection;
use crate::report::{self, Format};
use std::collections::BTreeMap;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::Scope;

const IN_FLIGHT: u64 = 32;

pub struct Pool {
    jobs: Option<SyncSender<(u64, Connection)>>,
    done: Receiver<(u64, Option<Vec<u8>>)>,
    sent: u64,
    next: u64,
    ready: BTreeMap<u64, Option<Vec<u8>>>,
}

/// A record the helpers could not render (a serialisation error, a helper gone).
fn failed() -> io::Error {
    io::Error::other("a report record could not be rendered")
}

impl Pool {
    /// `threads` helpers in `scope`, rendering records of `format` (JSON or NDJSON).
    pub fn start<'s>(scope: &'s Scope<'s, '_>, threads: usize, format: Format) -> Pool {
        let (jobs, rx) = sync_channel::<(u64, Connection)>(IN_FLIGHT as usize);
        let (done_tx, done) = channel();
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..threads.max(1) {
            let (rx, done_tx) = (Arc::clone(&rx), done_tx.clone());
            scope.spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job.
                    let job = rx.lock().ok().and_then(|r| r.recv().ok());
                    let Some((i, c)) = job else { break };
                    // A helper that panicked would leave its record's place empty and
                    // the writer waiting for it: its record becomes an error instead.
                    let render = AssertUnwindSafe(|| report::render(format, &c));
                    let bytes = catch_unwind(render).ok().flatten();
                    // Dropped here too: freeing a connection is part of the work shared.
                    drop(c);
                    if done_tx.send((i, bytes)).is_err() {
                        break;
                    }
                }
            });
        }
        Pool {
            jobs: Some(jobs),
            done,
            sent: 0,
            next: 0,
            ready: BTreeMap::new(),
        }
    }

    /// Hand `c` to the helpers; write (with `write`) every record ready in order.
    pub fn submit(
        &mut self,
        c: Connection,
        write: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        while self.sent - self.next >= IN_FLIGHT {
            self.wait(write)?;
        }
        let jobs = self.jobs.as_ref().ok_or_else(failed)?;
        jobs.send((self.sent, c)).map_err(|_| failed())?;
        self.sent += 1;
        while let Ok((i, b)) = self.done.try_recv() {
            self.ready.insert(i, b);
        }
        self.write_ready(write)
    }

    /// Every record submitted, written in order; the helpers end.
    pub fn finish(mut self, write: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
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
            let bytes = entry.remove().ok_or_else(failed)?;
            self.next += 1;
            write(&bytes)?;
        }
        Ok(())
    }
}
