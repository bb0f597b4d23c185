//! Pieces of a capture file that packets point into ([`Block`]), and where they come
//! from ([`Feed`]): windows mapped from the file, or buffers filled by `read`.
//!
//! A block is shared (reference counted), so a packet can be kept past its callback
//! without copying it: the parallel reader hands packets to its workers as ranges of
//! blocks. A block lives as long as a queued packet points into it, so memory follows the
//! packets in flight, not the file.
//!
//! Why mapping: on the shared benchmark (216 MB, `report --format json`), reading through
//! `read` costs the kernel's copy of every byte into the reader's buffer (7-9% of a
//! single-threaded run) and the parallel reader then copied each packet again into its
//! batches (10% of all CPU time); mapped windows need neither (figures in
//! docs/performance.md, 2026-12-01). Mapping is used only for regular files that are not
//! a spool of standard input (which grows); anything else, or a failed `mmap`, is read.

use std::fs::File;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// Bytes of a block read by `read`: how much to ask for at once.
const READ_BLOCK: usize = 1 << 20;
/// Bytes of a mapped window (the last one of a file is shorter). The windows of packets
/// in flight count in the resident size: 4 MiB windows took the benchmark's peak RSS from
/// 41 to 56 MB for 3% less CPU than reading; 2 MiB ones keep it near that of reading.
const MAP_WINDOW: usize = 2 << 20;
/// Read buffers kept for reuse: a fresh 1 MiB allocation costs its page faults again.
const POOL_KEEP: usize = 16;

/// A piece of the capture file's bytes; cheap to clone.
#[derive(Clone)]
pub struct Block(Arc<Inner>);

struct Inner {
    backing: Backing,
    /// Where the block's bytes start in `backing` and how many there are.
    start: usize,
    len: usize,
}

enum Backing {
    Owned { buf: Vec<u8>, pool: Arc<Pool> },
    Mapped(Mapping),
}

impl Block {
    /// The file bytes this block holds.
    pub fn bytes(&self) -> &[u8] {
        let i = &self.0;
        let all: &[u8] = match &i.backing {
            Backing::Owned { buf, .. } => buf,
            Backing::Mapped(m) => m.bytes(),
        };
        &all[i.start..i.start + i.len]
    }

    pub fn len(&self) -> usize {
        self.0.len
    }

    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// Where `data` starts inside this block, when it lies inside it.
    pub fn offset_of(&self, data: &[u8]) -> Option<usize> {
        let b = self.bytes();
        let off = (data.as_ptr() as usize).checked_sub(b.as_ptr() as usize)?;
        (off.checked_add(data.len())? <= b.len()).then_some(off)
    }

    /// Whether both are the same block.
    pub fn same(&self, other: &Block) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Backing::Owned { buf, pool } = &mut self.backing
            && let Ok(mut keep) = pool.0.lock()
            && keep.len() < POOL_KEEP
        {
            keep.push(std::mem::take(buf));
        }
    }
}

/// Read buffers given back by dropped blocks.
#[derive(Default)]
struct Pool(Mutex<Vec<Vec<u8>>>);

impl Pool {
    /// A buffer of at least `len` bytes (its whole length usable).
    fn take(&self, len: usize) -> Vec<u8> {
        let mut buf = self
            .0
            .lock()
            .ok()
            .and_then(|mut k| k.pop())
            .unwrap_or_default();
        if buf.len() < len {
            buf.resize(len, 0);
        }
        buf
    }
}

/// Where blocks come from: the bytes of a file from some offset on.
pub(super) enum Feed {
    Read(ReadFeed),
    Map(MapFeed),
}

impl Feed {
    /// Blocks read from `r`, positioned at the offset the first block will start at.
    pub(super) fn read(r: Box<dyn Read + Send>) -> Self {
        Feed::Read(ReadFeed {
            r,
            pool: Arc::new(Pool::default()),
        })
    }

    /// Windows mapped from `file` (a regular file that does not grow) from `pos` on; None
    /// when it cannot be mapped.
    /// `TCPSCOPE_NO_MMAP` set in the environment: never map (as ripgrep's `--no-mmap`).
    pub(super) fn map(file: &File, pos: u64) -> Option<Self> {
        if std::env::var_os("TCPSCOPE_NO_MMAP").is_some() {
            return None;
        }
        let m = file.metadata().ok()?;
        if !m.file_type().is_file() || m.len() <= pos {
            return None;
        }
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = u64::try_from(page).ok().filter(|p| p.is_power_of_two())?;
        Some(Feed::Map(MapFeed {
            fd: file.try_clone().ok()?.into(),
            size: m.len(),
            page,
        }))
    }

    /// A block that starts at file offset `pos` and holds at least `need` bytes, unless
    /// the file ends first. `carry` is the previous block and where `pos` lies in it: its
    /// bytes from there on are the new block's first ones (the file has been consumed up
    /// to the end of `carry`).
    pub(super) fn next(
        &mut self,
        carry: Option<(&Block, usize)>,
        pos: u64,
        need: usize,
    ) -> io::Result<Block> {
        if let Feed::Map(m) = self {
            if let Some(b) = m.window(pos, need) {
                return Ok(b);
            }
            // The mapped part is used up, or the file changed: read the rest.
            let mut file = File::from(m.fd.try_clone()?);
            io::Seek::seek(&mut file, io::SeekFrom::Start(pos))?;
            *self = Feed::read(Box::new(file));
            // Bytes of a mapped block are not carried: they are read again from `pos`.
            return self.next(None, pos, need);
        }
        let Feed::Read(r) = self else {
            unreachable!("a mapped feed returned above")
        };
        r.next(carry, need)
    }
}

/// Blocks filled by `read`, through buffers kept for reuse.
pub(super) struct ReadFeed {
    r: Box<dyn Read + Send>,
    pool: Arc<Pool>,
}

impl ReadFeed {
    fn next(&mut self, carry: Option<(&Block, usize)>, need: usize) -> io::Result<Block> {
        let mut buf = self.pool.take(READ_BLOCK.max(need));
        let mut n = 0;
        if let Some((b, at)) = carry {
            let rest = &b.bytes()[at..];
            buf[..rest.len()].copy_from_slice(rest);
            n = rest.len();
        }
        // Like a buffered reader: one `read` for the whole buffer, more only while fewer
        // than `need` bytes are there (a growing spool delivers what it has).
        loop {
            match self.r.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => {
                    n += k;
                    if n >= need {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Block(Arc::new(Inner {
            backing: Backing::Owned {
                buf,
                pool: self.pool.clone(),
            },
            start: 0,
            len: n,
        })))
    }
}

/// Windows mapped from a regular file, up to the size it had when opened; then (or as
/// soon as the file is seen shorter than that) the rest is read.
pub(super) struct MapFeed {
    fd: std::os::fd::OwnedFd,
    /// The file's size when opened: nothing past it is mapped.
    size: u64,
    page: u64,
}

impl MapFeed {
    /// A mapped block at `pos` of at least `need` bytes; None when that is not wholly
    /// inside the size the file had when opened, when the file is now shorter than that,
    /// or when mapping fails.
    fn window(&self, pos: u64, need: usize) -> Option<Block> {
        let s = self;
        let end = pos.checked_add(need as u64)?;
        if end > s.size || current_size(&s.fd)? < s.size {
            return None;
        }
        let off = pos & !(s.page - 1);
        let skip = (pos - off) as usize;
        let len = (MAP_WINDOW.max(skip + need) as u64).min(s.size - off) as usize;
        let m = Mapping::new(&s.fd, off, len)?;
        Some(Block(Arc::new(Inner {
            backing: Backing::Mapped(m),
            start: skip,
            len: len - skip,
        })))
    }
}

fn current_size(fd: &std::os::fd::OwnedFd) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a `stat` into the buffer it is given, on an open descriptor.
    let r = unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) };
    if r != 0 {
        return None;
    }
    // SAFETY: fstat succeeded, so it filled the struct.
    let st = unsafe { st.assume_init() };
    u64::try_from(st.st_size).ok()
}

/// One read-only mapped window of a file, unmapped when dropped.
struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value alone; sharing `&[u8]` views
// of it between threads is like sharing any immutable buffer.
unsafe impl Send for Mapping {}
// SAFETY: as above, nothing writes through it.
unsafe impl Sync for Mapping {}

impl Mapping {
    fn new(fd: &std::os::fd::OwnedFd, off: u64, len: usize) -> Option<Mapping> {
        use std::os::fd::AsRawFd;
        if len == 0 {
            return None;
        }
        install_sigbus_handler();
        let off = libc::off_t::try_from(off).ok()?;
        // SAFETY: a fresh private read-only mapping of an open file descriptor, at a
        // page-aligned offset, of bytes the file had when checked just before. If the file
        // is cut afterwards by someone else, touching the lost pages raises SIGBUS, which
        // `install_sigbus_handler` turns into an error message and exit (never a read of
        // undefined memory).
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                // Populated at once: one call maps the window's pages (already in the page
                // cache, as a re-read file is) instead of a fault per 64 KiB.
                libc::MAP_PRIVATE | libc::MAP_POPULATE,
                fd.as_raw_fd(),
                off,
            )
        };
        (ptr != libc::MAP_FAILED).then_some(Mapping { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is a live mapping of `len` readable bytes until `drop`.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped; no view outlives `self`.
        unsafe { libc::munmap(self.ptr, self.len) };
    }
}

/// A mapped file cut short by another program while it is read: its lost pages raise
/// SIGBUS. Say so and exit with the error status instead of dying without a word.
fn install_sigbus_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        extern "C" fn on_sigbus(_: libc::c_int) {
            const MSG: &[u8] =
                b"tcpscope: the capture file was cut short or became unreadable while it was read\n";
            // SAFETY: write and _exit are async-signal-safe.
            unsafe {
                libc::write(2, MSG.as_ptr().cast(), MSG.len());
                libc::_exit(1);
            }
        }
        // SAFETY: installing a handler that only calls async-signal-safe functions.
        unsafe {
            libc::signal(
                libc::SIGBUS,
                on_sigbus as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    });
}

/// Ask the processor to bring the cache line of `b` in, without waiting for it.
#[inline]
pub fn prefetch(b: &u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it reads nothing the program sees and never
    // faults, and SSE (which it needs) is part of every x86-64 processor.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(b).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = b;
}
