//! NSS key log (`SSLKEYLOGFILE`) secrets, indexed by ClientHello random.
//!
//! Lines are `LABEL <client_random hex> <secret hex>`; `#` starts a comment. Lines that
//! do not parse are counted (their numbers kept for the warning) but never echoed: a key
//! log's content never reaches any output. The same text comes from a pcapng Decryption
//! Secrets Block, so both sources go through [`KeyLog::add_line`].

use std::collections::HashMap;

/// The secrets tcpscope uses (others, e.g. early-traffic or exporter secrets, are
/// accepted and ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// TLS 1.2 and older: the 48-byte master secret.
    ClientRandom,
    ClientHandshake,
    ServerHandshake,
    ClientTraffic0,
    ServerTraffic0,
}

impl Label {
    fn parse(s: &[u8]) -> Option<Option<Label>> {
        Some(Some(match s {
            b"CLIENT_RANDOM" => Label::ClientRandom,
            b"CLIENT_HANDSHAKE_TRAFFIC_SECRET" => Label::ClientHandshake,
            b"SERVER_HANDSHAKE_TRAFFIC_SECRET" => Label::ServerHandshake,
            b"CLIENT_TRAFFIC_SECRET_0" => Label::ClientTraffic0,
            b"SERVER_TRAFFIC_SECRET_0" => Label::ServerTraffic0,
            b"CLIENT_EARLY_TRAFFIC_SECRET"
            | b"EARLY_EXPORTER_SECRET"
            | b"EXPORTER_SECRET"
            | b"ECH_SECRET"
            | b"ECH_CONFIG" => return Some(None),
            _ => return None,
        }))
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// Where a connection's secrets came from (the JSON's `keys_from`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeySource {
    Keylog,
    Dsb,
}

/// One secret: at most 48 bytes (SHA-384), kept inline.
#[derive(Clone, Copy)]
pub(crate) struct Secret {
    len: u8,
    bytes: [u8; 48],
}

impl Secret {
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

#[derive(Clone, Default)]
pub(crate) struct Entry {
    secrets: [Option<Box<Secret>>; 5],
    pub(crate) source: Option<KeySource>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.secrets.iter().flatten().count();
        write!(f, "Entry {{ {n} secrets from {:?} }}", self.source)
    }
}

impl Entry {
    pub(crate) fn get(&self, l: Label) -> Option<&[u8]> {
        self.secrets[l.idx()].as_deref().map(Secret::as_slice)
    }
}

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Slots {
    idx: [u32; 5],
    source: KeySource,
}

/// Longest line considered (a line beyond it is garbage, not buffered).
pub const MAX_LINE: usize = 1024;
/// Line numbers of bad lines kept for the warning.
const BAD_KEPT: usize = 5;

/// More secrets while a capture runs: a key log file a browser or curl keeps appending
/// to. Implemented at the edge (`capture::keytail`), which decides how often it really
/// reads; the analysis only asks, when a connection's secrets are not known yet.
pub trait KeyFeed: Send {
    /// Add what was appended since the last call (bounded). Unless `now`, the feed may
    /// skip a call that comes too soon after the last; `now` is asked once per connection
    /// at most twice (its ClientHello, its end).
    fn more(&mut self, into: &mut KeyLog, now: bool);
}

/// A key log that grows: what was read so far, and where more comes from.
struct Growing {
    known: KeyLog,
    feed: Box<dyn KeyFeed>,
}

/// All secrets of one run. `Debug` shows counts only.
#[derive(Clone, Default)]
pub struct KeyLog {
    /// Per client random: the index in `arena` of each label's secret (`NONE`: absent),
    /// and the source. Compact: a key log may hold millions of lines.
    entries: HashMap<[u8; 32], Slots>,
    arena: Vec<Secret>,
    lines: u64,
    bad: u64,
    bad_lines: Vec<u64>,
    /// Live captures: secrets that appear after the start (`KeyLog::growing`).
    growing: Option<std::sync::Arc<std::sync::Mutex<Growing>>>,
    /// Bytes of encrypted records all connections keep while waiting for their secrets.
    held: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// Most bytes of records waiting for their secrets, all connections together.
const MAX_HELD: usize = 32 << 20;

impl std::fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyLog {{ {} client randoms, {} bad lines }}",
            self.entries.len(),
            self.bad
        )
    }
}

fn unhex(s: &[u8], out: &mut [u8]) -> Option<usize> {
    if !s.len().is_multiple_of(2) || s.len() / 2 > out.len() {
        return None;
    }
    let v = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = (v(pair[0])? << 4) | v(pair[1])?;
    }
    Some(s.len() / 2)
}

impl KeyLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add every line of `text` (a DSB's payload, or a whole file).
    pub fn add_text(&mut self, text: &[u8], source: KeySource) {
        for line in text.split(|&b| b == b'\n') {
            self.add_line(line, source);
        }
    }

    /// One line of a key log (with or without its newline).
    pub fn add_line(&mut self, line: &[u8], source: KeySource) {
        self.lines += 1;
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            return;
        }
        if line.len() > MAX_LINE || !self.parse_line(line, source) {
            self.bad += 1;
            if self.bad_lines.len() < BAD_KEPT {
                self.bad_lines.push(self.lines);
            }
        }
    }

    fn parse_line(&mut self, line: &[u8], source: KeySource) -> bool {
        let mut parts = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|p| !p.is_empty());
        let (Some(label), Some(random), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Some(label) = Label::parse(label) else {
            return false;
        };
        let mut cr = [0u8; 32];
        if unhex(random, &mut cr) != Some(32) {
            return false;
        }
        let mut s = Secret {
            len: 0,
            bytes: [0; 48],
        };
        let Some(n) = unhex(secret, &mut s.bytes) else {
            return false;
        };
        let Some(label) = label else {
            return true; // a known label tcpscope does not use
        };
        let ok = match label {
            Label::ClientRandom => n == 48,
            _ => n == 32 || n == 48,
        };
        if !ok {
            return false;
        }
        s.len = n as u8;
        let Ok(at) = u32::try_from(self.arena.len()) else {
            return false;
        };
        let e = self.entries.entry(cr).or_insert(Slots {
            idx: [NONE; 5],
            source,
        });
        match e.idx[label.idx()] {
            NONE => {
                e.idx[label.idx()] = at;
                self.arena.push(s);
            }
            i => self.arena[i as usize] = s,
        }
        true
    }

    /// A key log that starts with `known` and asks `feed` for more whenever a client
    /// random is not found (live captures: the file keeps growing while tcpscope runs).
    pub fn growing(known: KeyLog, feed: Box<dyn KeyFeed>) -> KeyLog {
        KeyLog {
            growing: Some(std::sync::Arc::new(std::sync::Mutex::new(Growing {
                known,
                feed,
            }))),
            ..KeyLog::default()
        }
    }

    /// More secrets may still come (`growing`): a connection without them may wait.
    pub fn may_grow(&self) -> bool {
        self.growing.is_some()
    }

    /// The secrets for a ClientHello random (a growing key log first reads what was
    /// appended, whatever the feed's rate limit: once per connection).
    pub(crate) fn get_now(&self, client_random: &[u8]) -> Option<Entry> {
        self.lookup(client_random, true)
    }

    /// A growing key log's secrets for the random after reading what was appended (the
    /// random may be known with some secrets only: the rest come later).
    pub(crate) fn refresh(&self, client_random: &[u8], now: bool) -> Option<Entry> {
        let Some(g) = self.growing.as_ref() else {
            return self.get_known(client_random);
        };
        let mut g = g.lock().ok()?;
        let g = &mut *g;
        g.feed.more(&mut g.known, now);
        g.known.get_known(client_random)
    }

    /// Reserve `n` bytes for records waiting for their secrets (false: over the budget).
    pub(crate) fn hold(&self, n: usize) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        self.held
            .fetch_update(Relaxed, Relaxed, |h| {
                h.checked_add(n).filter(|&t| t <= MAX_HELD)
            })
            .is_ok()
    }

    /// Give back what `hold` reserved.
    pub(crate) fn unhold(&self, n: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        let _ = self
            .held
            .fetch_update(Relaxed, Relaxed, |h| Some(h.saturating_sub(n)));
    }

    fn lookup(&self, client_random: &[u8], now: bool) -> Option<Entry> {
        if let Some(e) = self.get_known(client_random) {
            return Some(e);
        }
        let mut g = self.growing.as_ref()?.lock().ok()?;
        let g = &mut *g;
        if let Some(e) = g.known.get_known(client_random) {
            return Some(e);
        }
        g.feed.more(&mut g.known, now);
        g.known.get_known(client_random)
    }

    fn get_known(&self, client_random: &[u8]) -> Option<Entry> {
        let cr: [u8; 32] = client_random.try_into().ok()?;
        let slots = self.entries.get(&cr)?;
        let mut e = Entry {
            source: Some(slots.source),
            ..Default::default()
        };
        for (out, &i) in e.secrets.iter_mut().zip(&slots.idx) {
            if i != NONE {
                *out = self.arena.get(i as usize).map(|s| Box::new(*s));
            }
        }
        Some(e)
    }

    /// Client randoms with at least one usable secret.
    pub fn len(&self) -> usize {
        let more = self
            .growing
            .as_ref()
            .and_then(|g| g.lock().ok().map(|g| g.known.len()));
        self.entries.len() + more.unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A warning about unusable lines (their numbers, never their content), if any.
    pub fn warning(&self, name: &str) -> Option<String> {
        if self.bad == 0 {
            return None;
        }
        let nums: Vec<String> = self.bad_lines.iter().map(u64::to_string).collect();
        let more = if self.bad > self.bad_lines.len() as u64 {
            ", …"
        } else {
            ""
        };
        Some(format!(
            "{name}: {} line(s) are not NSS key log lines (`LABEL <64 hex client random> <hex secret>`) and were ignored (line {}{more})",
            self.bad,
            nums.join(", ")
        ))
    }
}

/// The run's key log, set once by the command line before any analysis (`--keylog`,
/// `SSLKEYLOGFILE`, a pcapng's Decryption Secrets Blocks); every analysis of the process
/// starts from it (`pipeline::Config::default`).
static RUN_KEYS: std::sync::OnceLock<std::sync::Arc<KeyLog>> = std::sync::OnceLock::new();

/// Set the run's key log (only the first call counts).
pub fn set_run_keys(k: KeyLog) {
    let _ = RUN_KEYS.set(std::sync::Arc::new(k));
}

/// The run's key log, if one was set.
pub fn run_keys() -> Option<std::sync::Arc<KeyLog>> {
    RUN_KEYS.get().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_records_share_one_budget() {
        let k = KeyLog::new();
        let k2 = k.clone();
        assert!(k.hold(MAX_HELD - 10));
        assert!(!k2.hold(11), "the clones share the budget");
        assert!(k2.hold(10));
        k.unhold(MAX_HELD);
        assert!(k2.hold(MAX_HELD));
        k.unhold(usize::MAX);
        assert!(k.hold(1), "unhold never goes below zero");
    }

    #[test]
    fn lines_parse_and_garbage_is_counted_not_echoed() {
        let mut k = KeyLog::new();
        let cr = "11".repeat(32);
        let text = format!(
            "# comment\nCLIENT_RANDOM {cr} {}\nSERVER_TRAFFIC_SECRET_0 {cr} {}\nnot a line s3cr3t\nCLIENT_RANDOM {cr} abc\nEXPORTER_SECRET {cr} {}\n",
            "22".repeat(48),
            "33".repeat(32),
            "44".repeat(32)
        );
        k.add_text(text.as_bytes(), KeySource::Keylog);
        assert_eq!(k.len(), 1);
        let e = k.get_now(&[0x11; 32]).unwrap();
        assert_eq!(e.get(Label::ClientRandom), Some(&[0x22u8; 48][..]));
        assert_eq!(e.get(Label::ServerTraffic0), Some(&[0x33u8; 32][..]));
        assert_eq!(e.get(Label::ClientHandshake), None);
        let w = k.warning("keys.log").unwrap();
        assert!(w.contains("2 line(s)") && w.contains("line 4, 5"), "{w}");
        assert!(!w.contains("s3cr3t") && !w.contains("abc"));
        assert!(!format!("{k:?}").contains("22"));
    }
}
