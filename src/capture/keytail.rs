//! A key log file that keeps growing while a live capture runs (a browser or curl with
//! `SSLKEYLOGFILE` appends each connection's secrets as its handshake goes on): the
//! analysis asks for more when a ClientHello's random is not known (`tls::KeyFeed`), and
//! this edge reads only what was appended since, bounded per call and rate-limited.

use crate::tls::{KeyFeed, KeyLog, KeySource, keylog};
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Least time between two looks at the file (its size, then the new bytes if it grew)
/// for the records that wait for their secrets; a ClientHello and a connection's end
/// always look (once each per connection).
const EVERY: Duration = Duration::from_millis(20);
/// Most bytes read in one call (the rest on the next).
const MAX_READ: u64 = 1 << 20;

/// The unread end of a key log file.
pub struct KeyTail {
    path: PathBuf,
    /// Bytes of the file already read.
    offset: u64,
    /// The last line, not yet ended by a newline (at most `keylog::MAX_LINE` kept).
    partial: Vec<u8>,
    /// The current partial line is over the limit: skipped up to its newline.
    long: bool,
    last: Option<Instant>,
}

impl KeyTail {
    /// Follow `path` from `offset` (what an initial read already took).
    pub fn new(path: PathBuf, offset: u64) -> KeyTail {
        KeyTail {
            path,
            offset,
            partial: Vec::new(),
            long: false,
            last: None,
        }
    }

    /// Read what was appended (at most `limit` bytes) into `into`.
    pub fn read_new(&mut self, into: &mut KeyLog, limit: u64) -> std::io::Result<u64> {
        let mut f = std::fs::File::open(&self.path)?;
        let len = f.metadata()?.len();
        if len < self.offset {
            // Truncated or replaced: start over.
            self.offset = 0;
            self.partial.clear();
            self.long = false;
        }
        if len == self.offset {
            return Ok(0);
        }
        f.seek(SeekFrom::Start(self.offset))?;
        let mut buf = Vec::new();
        let n = f.take(limit.min(len - self.offset)).read_to_end(&mut buf)? as u64;
        self.offset += n;
        let mut rest = &buf[..];
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            self.push_part(&rest[..i]);
            self.end_line(into);
            rest = &rest[i + 1..];
        }
        self.push_part(rest);
        Ok(n)
    }

    fn push_part(&mut self, part: &[u8]) {
        if self.partial.len() + part.len() > keylog::MAX_LINE {
            self.long = true;
            self.partial.clear();
        } else if !self.long {
            self.partial.extend_from_slice(part);
        }
    }

    fn end_line(&mut self, into: &mut KeyLog) {
        if self.long {
            into.add_line(&[b'x'; keylog::MAX_LINE + 1], KeySource::Keylog);
        } else {
            into.add_line(&self.partial, KeySource::Keylog);
        }
        self.partial.clear();
        self.long = false;
    }
}

impl KeyFeed for KeyTail {
    fn more(&mut self, into: &mut KeyLog, urgent: bool) {
        let now = Instant::now();
        if !urgent && self.last.is_some_and(|t| now.duration_since(t) < EVERY) {
            return;
        }
        self.last = Some(now);
        // A file that vanished or cannot be read: nothing more, asked again later.
        let _ = self.read_new(into, MAX_READ);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn only_appended_whole_lines_are_read() {
        let p = std::env::temp_dir().join(format!("tcpscope-keytail-{}.keys", std::process::id()));
        let cr = "ab".repeat(32);
        let line = |l: &str, s: &str| format!("{l} {cr} {s}\n");
        std::fs::write(&p, line("CLIENT_RANDOM", &"01".repeat(48))).unwrap();
        let mut t = KeyTail::new(p.clone(), 0);
        let mut k = KeyLog::new();
        t.read_new(&mut k, MAX_READ).unwrap();
        assert_eq!(k.len(), 1);
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        let second = line("CLIENT_RANDOM", &"02".repeat(48)).replace(&cr, &"cd".repeat(32));
        let (a, b) = second.split_at(40);
        f.write_all(a.as_bytes()).unwrap();
        assert!(t.read_new(&mut k, MAX_READ).unwrap() > 0);
        assert_eq!(k.len(), 1, "half a line is not a line");
        f.write_all(b.as_bytes()).unwrap();
        t.read_new(&mut k, MAX_READ).unwrap();
        assert_eq!(k.len(), 2);
        assert!(k.get_now(&[0xcd; 32]).is_some());
        assert_eq!(t.read_new(&mut k, MAX_READ).unwrap(), 0, "nothing new");
        let _ = std::fs::remove_file(&p);
    }
}
