//! Standard input for the terminal UI. The UI re-reads frames from its file for the hex
//! view, the Stream tab and HTTP bodies, and standard input cannot be read twice; so the
//! input is copied to a temporary file as it arrives (the spool), and the readers follow
//! that file as it grows ([`Tail`]) until the copy ends. `tcpdump -w - | tcpscope -` thus
//! fills the UI as packets come, and `zcat big.pcap.gz | tcpscope -` opens at once.
//!
//! The spool is created with `create_new` (never an existing file or link) and mode 0600
//! in the temporary directory, and removed when the UI ends. It holds the whole input.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the copy is going.
#[derive(Debug, Default)]
pub struct SpoolState {
    /// The copy ended (end of input, or an error).
    done: AtomicBool,
    /// Why the copy stopped early, if it did.
    error: Mutex<Option<String>>,
}

impl SpoolState {
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }

    pub fn error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|e| e.clone())
    }
}

/// Spools being written, by path: the readers look their file up here.
static GROWING: Mutex<Vec<(PathBuf, Arc<SpoolState>)>> = Mutex::new(Vec::new());

/// The copy state of `path` if it is a spool of this process.
pub fn spool_state(path: &Path) -> Option<Arc<SpoolState>> {
    let g = GROWING.lock().ok()?;
    g.iter().find(|(p, _)| p == path).map(|(_, s)| s.clone())
}

/// Standard input being copied to a temporary file; the file goes when this is dropped.
pub struct Spool {
    pub path: PathBuf,
    pub state: Arc<SpoolState>,
}

impl Spool {
    /// Start copying standard input to a new temporary file, on a thread.
    pub fn from_stdin() -> io::Result<Spool> {
        Spool::from_reader(io::stdin())
    }

    /// Start copying `input` to a new temporary file, on a thread.
    pub fn from_reader(mut input: impl Read + Send + 'static) -> io::Result<Spool> {
        let (path, mut file) = create()?;
        let state = Arc::new(SpoolState::default());
        if let Ok(mut g) = GROWING.lock() {
            g.push((path.clone(), state.clone()));
        }
        let st = state.clone();
        std::thread::Builder::new()
            .name("tcpscope-spool".into())
            .spawn(move || {
                let mut buf = vec![0u8; 1 << 20];
                let err = loop {
                    match input.read(&mut buf) {
                        Ok(0) => break None,
                        Ok(n) => {
                            if let Err(e) = file.write_all(&buf[..n]) {
                                break Some(format!("cannot write the copy of the input: {e}"));
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Some(format!("reading standard input: {e}")),
                    }
                };
                if let Ok(mut e) = st.error.lock() {
                    *e = err;
                }
                st.done.store(true, Ordering::SeqCst);
            })?;
        Ok(Spool { path, state })
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Ok(mut g) = GROWING.lock() {
            g.retain(|(p, _)| p != &self.path);
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Remove every spool of this process (the UI ending on a signal without unwinding).
pub fn remove_all() {
    if let Ok(g) = GROWING.lock() {
        for (p, _) in g.iter() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A new file in the temporary directory that nobody else can read.
fn create() -> io::Result<(PathBuf, File)> {
    let dir = std::env::temp_dir();
    let mut last = None;
    for n in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = dir.join(format!(
            "tcpscope-stdin-{}-{nanos:09}-{n}.cap",
            std::process::id()
        ));
        let mut o = OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        match o.open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

thread_local! {
    static NO_WAIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` with readers on this thread taking a spool as it is now, without waiting for
/// it to grow (the UI's views re-reading frames that are already there).
pub fn without_waiting<T>(f: impl FnOnce() -> T) -> T {
    let before = NO_WAIT.with(|w| w.replace(true));
    let out = f();
    NO_WAIT.with(|w| w.set(before));
    out
}

/// A reader of a file that may still be growing: at its end it waits for more until the
/// spool's copy is done. For any other file it is the file.
pub struct Tail<R> {
    inner: R,
    state: Option<Arc<SpoolState>>,
}

impl<R: Read> Tail<R> {
    pub fn new(inner: R, path: &Path) -> Tail<R> {
        Tail {
            inner,
            state: spool_state(path),
        }
    }

    /// What is read.
    pub fn inner(&self) -> &R {
        &self.inner
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // Done before the read: then a 0 from the read is the real end.
            let done = self.state.as_ref().is_none_or(|s| s.is_done())
                || NO_WAIT.with(std::cell::Cell::get);
            let n = self.inner.read(buf)?;
            if n > 0 || done || buf.is_empty() {
                return Ok(n);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A reader fed by a channel: the test decides when bytes arrive and when input ends.
    struct Chan(mpsc::Receiver<Vec<u8>>, Vec<u8>);

    impl Read for Chan {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.1.is_empty() {
                match self.0.recv() {
                    Ok(v) => self.1 = v,
                    Err(_) => return Ok(0),
                }
            }
            let n = buf.len().min(self.1.len());
            buf[..n].copy_from_slice(&self.1[..n]);
            self.1.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn tail_follows_the_spool_until_input_ends_and_the_file_goes_after() {
        let (tx, rx) = mpsc::channel();
        let spool = Spool::from_reader(Chan(rx, Vec::new())).unwrap();
        let path = spool.path.clone();
        tx.send(b"hello ".to_vec()).unwrap();
        let reader = std::thread::spawn({
            let path = path.clone();
            move || {
                let mut t = Tail::new(File::open(&path).unwrap(), &path);
                let mut all = Vec::new();
                t.read_to_end(&mut all).unwrap();
                all
            }
        });
        std::thread::sleep(Duration::from_millis(100));
        // The reader is waiting at the end of what was written, not finished.
        assert!(!reader.is_finished());
        tx.send(b"world".to_vec()).unwrap();
        drop(tx);
        assert_eq!(reader.join().unwrap(), b"hello world");
        assert!(spool.state.is_done());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 11);
        assert!(spool.state.error().is_none());
        drop(spool);
        assert!(!path.exists());
        assert!(spool_state(&path).is_none());
    }

    #[test]
    fn tail_of_an_ordinary_file_ends_at_its_end() {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/http-get.pcap");
        let mut t = Tail::new(File::open(&p).unwrap(), &p);
        let mut all = Vec::new();
        t.read_to_end(&mut all).unwrap();
        assert_eq!(all.len() as u64, std::fs::metadata(&p).unwrap().len());
    }

    /// Input that fails after some packets: the packets before are read, and the report
    /// says the input was cut.
    #[test]
    fn a_failed_copy_is_a_warning_not_a_silent_end() {
        struct Failing(Vec<u8>);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Err(io::Error::other("device gone"));
                }
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0.drain(..n);
                Ok(n)
            }
        }
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/http-get.pcap");
        let bytes = std::fs::read(p).unwrap();
        let spool = Spool::from_reader(Failing(bytes)).unwrap();
        let mut n = 0;
        let summary =
            crate::capture::read_source(&crate::capture::Source::File(spool.path.clone()), |_| {
                n += 1;
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(n, 12);
        assert!(
            summary
                .warnings
                .iter()
                .any(|w| w.contains("standard input was cut short") && w.contains("device gone")),
            "{:?}",
            summary.warnings
        );
    }
}
