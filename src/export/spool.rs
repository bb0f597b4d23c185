//! Where `export-http` puts response bodies while the capture is read: each decoded
//! chunk goes to a part file in the output folder as it is decoded, so the decoded bytes
//! held in memory at once, across every connection, stay under one budget
//! ([`HELD_BUDGET`]) however many bodies are in progress and however far they decode.
//! When the capture is read, [`super::export`] gives each part its final name (in
//! connection order, so the names do not depend on threads or interleaving) and removes
//! the parts of bodies it does not write.
//!
//! A part file is opened only to append a batch of bytes and closed at once: 100,000
//! bodies in progress never hold 100,000 file descriptors.

use crate::http::{BodyEnd, BodySpill, BodyWriter};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Decoded bytes held in memory at once, over all bodies in progress.
pub const HELD_BUDGET: usize = 32 << 20;
/// Decoded bytes one body holds before they are appended to its part file.
const HELD_PER_BODY: usize = 1 << 20;

/// What a finished body left in its part file.
#[derive(Debug)]
pub struct Part {
    /// None when no byte was written (an empty body: no file).
    pub path: Option<PathBuf>,
    /// Bytes in the file.
    pub len: u64,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    pub end: BodyEnd,
}

/// The part files of one export (a [`BodySpill`] for the HTTP settings).
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    /// Decoded bytes held in memory by every writer together.
    held: AtomicUsize,
    /// Most ever held at once (for tests and docs/memory.md).
    peak: AtomicUsize,
    next: AtomicU64,
    parts: Mutex<HashMap<u64, Part>>,
    /// The first write that failed (a full disk): the export fails with it.
    error: Mutex<Option<io::Error>>,
}

impl Spool {
    /// Part files go into `dir` (which must exist).
    pub fn new(dir: &Path) -> Arc<Self> {
        Arc::new(Spool {
            dir: dir.to_path_buf(),
            held: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            next: AtomicU64::new(1),
            parts: Mutex::new(HashMap::new()),
            error: Mutex::new(None),
        })
    }

    /// The finished body `token` names, taken out of the spool.
    pub fn take(&self, token: u64) -> Option<Part> {
        self.parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&token)
    }

    /// Remove every part file not taken; the first write error, if any.
    pub fn close(&self) -> io::Result<()> {
        let left: Vec<Part> = self
            .parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, p)| p)
            .collect();
        for p in left {
            remove(p.path.as_deref());
        }
        match self
            .error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Most decoded bytes held in memory at once so far.
    pub fn peak_held(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Count `n` more held bytes if the budget allows.
    fn reserve(&self, n: usize) -> bool {
        let got = self
            .held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |h| {
                (h + n <= HELD_BUDGET).then_some(h + n)
            });
        if let Ok(before) = got {
            self.peak.fetch_max(before + n, Ordering::Relaxed);
        }
        got.is_ok()
    }

    fn release(&self, n: usize) {
        self.held.fetch_sub(n, Ordering::Relaxed);
    }

    fn failed(&self, e: io::Error) {
        let mut first = self.error.lock().unwrap_or_else(PoisonError::into_inner);
        if first.is_none() {
            *first = Some(e);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn remove(path: Option<&Path>) {
    if let Some(p) = path {
        let _ = std::fs::remove_file(p);
    }
}

impl BodySpill for Arc<Spool> {
    fn open(&self) -> Box<dyn BodyWriter> {
        Box::new(PartWriter {
            spool: Arc::clone(self),
            token: self.next.fetch_add(1, Ordering::Relaxed),
            path: None,
            held: Vec::new(),
            len: 0,
            hasher: Sha256::new(),
            failed: false,
            done: false,
        })
    }
}

/// One body's part file, and the bytes not yet appended to it.
struct PartWriter {
    spool: Arc<Spool>,
    token: u64,
    path: Option<PathBuf>,
    held: Vec<u8>,
    len: u64,
    hasher: Sha256,
    failed: bool,
    done: bool,
}

impl PartWriter {
    /// Append the held bytes and `more` to the part file (created at the first call).
    fn append(&mut self, more: &[u8]) {
        let held = std::mem::take(&mut self.held);
        self.spool.release(held.len());
        if self.failed {
            return;
        }
        if let Err(e) = self.try_append(&held, more) {
            self.failed = true;
            self.spool.failed(e);
        }
    }

    fn try_append(&mut self, a: &[u8], b: &[u8]) -> io::Result<()> {
        let mut f = match &self.path {
            Some(p) => OpenOptions::new().append(true).open(p)?,
            None => {
                let p = self.spool.dir.join(format!(
                    ".tcpscope-part-{}-{}",
                    std::process::id(),
                    self.token
                ));
                // Never follows or replaces what is there.
                let f = OpenOptions::new().write(true).create_new(true).open(&p)?;
                self.path = Some(p);
                f
            }
        };
        f.write_all(a)?;
        f.write_all(b)
    }
}

impl BodyWriter for PartWriter {
    fn write(&mut self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        self.hasher.update(chunk);
        self.len += chunk.len() as u64;
        if self.held.len() + chunk.len() <= HELD_PER_BODY && self.spool.reserve(chunk.len()) {
            self.held.extend_from_slice(chunk);
        } else {
            self.append(chunk);
        }
    }

    fn finish(mut self: Box<Self>, end: BodyEnd) -> u64 {
        if !self.held.is_empty() {
            self.append(&[]);
        }
        self.done = true;
        let part = Part {
            path: self.path.clone(),
            len: self.len,
            sha256: hex(&std::mem::take(&mut self.hasher).finalize()),
            end,
        };
        self.spool
            .parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(self.token, part);
        self.token
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        self.spool.release(self.held.len());
        if !self.done {
            // Never finished (its connection was dropped): nobody will ask for it.
            remove(self.path.as_deref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_in_progress_hold_at_most_the_budget_and_land_whole_in_their_parts() {
        let dir = std::env::temp_dir().join(format!("tcpscope-spool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let spool = Spool::new(&dir);
        let mut ws: Vec<_> = (0..100).map(|_| spool.open()).collect();
        let chunk = vec![7u8; 32 << 10];
        for _ in 0..64 {
            for w in &mut ws {
                w.write(&chunk);
            }
        }
        assert!(spool.peak_held() <= HELD_BUDGET, "{}", spool.peak_held());
        let want = hex(&Sha256::digest(vec![7u8; 64 * (32 << 10)]));
        let tokens: Vec<u64> = ws
            .into_iter()
            .map(|w| w.finish(BodyEnd::default()))
            .collect();
        assert_eq!(spool.held.load(Ordering::Relaxed), 0);
        let p = spool.take(tokens[0]).unwrap();
        let path = p.path.unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 64 * (32 << 10));
        assert_eq!((p.len, p.sha256.as_str()), (64 * (32 << 10), want.as_str()));
        remove(Some(&path));
        spool.close().unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "parts removed");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unfinished_body_leaves_no_file() {
        let dir = std::env::temp_dir().join(format!("tcpscope-spool-d-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let spool = Spool::new(&dir);
        let mut w = spool.open();
        w.write(&vec![1u8; 3 << 20]);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        drop(w);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
