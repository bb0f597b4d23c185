//! One connection's TLS state machine: records in, handshake facts and plaintext out.

use super::crypto::{Protection, Suite, inner_plaintext};
use super::handshake::{self, Step};
use super::keylog::{Entry, KeyLog, Label};
use super::record::{Framed, Framer, Record};
use super::{Alert, MAX_NOTES, Plain, TlsInfo, names};
use crate::flow::Dir;
use std::sync::Arc;

mod wait;

/// Largest handshake message reassembled (certificate chains included).
const MAX_HANDSHAKE_MSG: usize = 1 << 18;
/// Sequence numbers tried for the first record after a gap.
const MAX_TRIALS: u64 = 512;
/// Records after a gap that may fail before decryption of the direction stops.
const MAX_UNSYNCED: u32 = 8;

#[derive(Debug, Default)]
struct DirState {
    framer: Framer,
    /// Handshake bytes not yet a whole message, and the frame of their first record.
    hs: Vec<u8>,
    hs_frame: u64,
    /// A message over the size limit is being skipped (until the next gap).
    hs_broken: bool,
    prot: Option<Protection>,
    /// TLS 1.2: the keys that take effect at this direction's ChangeCipherSpec.
    pending: Option<Protection>,
    /// TLS 1.2: a ChangeCipherSpec was seen (records after it are encrypted).
    after_ccs: bool,
    /// Encrypted handshake records seen without keys.
    opaque_hs: u32,
    /// Ciphertext bytes lost since the last decrypted record (None: in sequence).
    lost: Option<u64>,
    unsynced_failures: u32,
    /// Plaintext offset handed on so far (gaps included).
    plain_off: u64,
    /// Size of the last record that decrypted (to estimate records lost in a gap).
    last_len: u64,
}

/// A connection's TLS layer. Push each direction's in-order bytes and gaps.
#[derive(Debug)]
pub struct TlsSession {
    keys: Option<Arc<KeyLog>>,
    info: TlsInfo,
    dirs: [DirState; 2],
    client_random: Option<[u8; 32]>,
    server_random: [u8; 32],
    suite: Option<Suite>,
    tls13: bool,
    /// The key log's secrets for this connection, once its ClientHello was seen.
    secrets: Option<Entry>,
    scratch: Vec<Framed>,
    /// The ServerHello's cipher suite.
    suite_id: Option<u16>,
    /// Handshake (TLS 1.3) or pending (TLS 1.2) keys were set up from the secrets.
    armed: bool,
    /// TLS 1.3: each direction's encrypted Finished was seen.
    finished: [bool; 2],
    /// Encrypted records waiting for their secrets (`MAX_WAITING`), in arrival order.
    waiting: Vec<(Dir, Record)>,
    waiting_bytes: usize,
    /// Waiting is over: the secrets did not come in time.
    gave_up: bool,
    replaying: bool,
}

impl TlsSession {
    pub fn new(keys: Option<Arc<KeyLog>>) -> Self {
        TlsSession {
            keys,
            info: TlsInfo::default(),
            dirs: Default::default(),
            client_random: None,
            server_random: [0; 32],
            suite: None,
            tls13: false,
            secrets: None,
            scratch: Vec::new(),
            suite_id: None,
            armed: false,
            finished: [false; 2],
            waiting: Vec::new(),
            waiting_bytes: 0,
            gave_up: false,
            replaying: false,
        }
    }

    pub fn info(&self) -> &TlsInfo {
        &self.info
    }

    /// The connection is over: plaintext lost at the end is handed on as a gap.
    pub fn finish(mut self, out: &mut dyn FnMut(Dir, Plain<'_>)) -> TlsInfo {
        if !self.waiting.is_empty() {
            if self.rearm(true) {
                self.replay(out);
            }
            if !self.waiting.is_empty() {
                self.give_up();
            }
        }
        for dir in [Dir::Client, Dir::Server] {
            let st = &mut self.dirs[dir.idx()];
            if let (Some(lost), Some(_)) = (st.lost.take(), st.prot.as_ref()) {
                out(
                    dir,
                    Plain::Gap {
                        offset: st.plain_off,
                        len: lost,
                    },
                );
            }
        }
        std::mem::take(&mut self.info)
    }

    pub fn push(
        &mut self,
        dir: Dir,
        bytes: &[u8],
        frame: u64,
        out: &mut dyn FnMut(Dir, Plain<'_>),
    ) {
        let mut framed = std::mem::take(&mut self.scratch);
        self.dirs[dir.idx()].framer.push(bytes, frame, &mut framed);
        self.on_framed(dir, &mut framed, out);
        self.scratch = framed;
    }

    /// `len` bytes of `dir` were never captured.
    pub fn gap(&mut self, dir: Dir, len: u64) {
        let st = &mut self.dirs[dir.idx()];
        st.framer.gap(len);
        st.hs.clear();
        st.hs_broken = false;
    }

    fn on_framed(
        &mut self,
        dir: Dir,
        framed: &mut Vec<Framed>,
        out: &mut dyn FnMut(Dir, Plain<'_>),
    ) {
        for f in framed.drain(..) {
            match f {
                Framed::Record(r) => self.on_record(dir, &r, out),
                Framed::Lost { bytes } => {
                    let st = &mut self.dirs[dir.idx()];
                    st.lost = Some(st.lost.unwrap_or(0).saturating_add(bytes));
                }
                Framed::Malformed { frame, len } => {
                    self.info.malformed_handshake += 1;
                    self.info.anomaly(
                        frame,
                        dir,
                        format!(
                            "not a TLS record header (type/version invalid or length {len} over {}); bytes skipped until the next record",
                            super::record::MAX_FRAGMENT
                        ),
                    );
                }
            }
        }
    }

    fn on_record(&mut self, dir: Dir, r: &Record, out: &mut dyn FnMut(Dir, Plain<'_>)) {
        match dir {
            Dir::Client => self.info.records.client += 1,
            Dir::Server => self.info.records.server += 1,
        }
        let d = dir.idx();
        let encrypted = r.ctype() == 23 || (!self.tls13 && self.dirs[d].after_ccs);
        if encrypted && r.ctype() != 20 {
            self.on_encrypted(dir, r, out);
            return;
        }
        self.on_content(dir, r.ctype(), &r.body, r.last_frame, false, out);
    }

    /// Plaintext content of one record (clear, or decrypted).
    fn on_content(
        &mut self,
        dir: Dir,
        ctype: u8,
        body: &[u8],
        frame: u64,
        encrypted: bool,
        out: &mut dyn FnMut(Dir, Plain<'_>),
    ) {
        match ctype {
            20 => {
                self.info
                    .entry(frame, dir, "ChangeCipherSpec".into(), false);
                if !self.tls13 {
                    let st = &mut self.dirs[dir.idx()];
                    st.after_ccs = true;
                    st.prot = st.pending.take();
                }
            }
            21 => self.alert(dir, body, frame),
            22 => self.handshake_bytes(dir, body, frame, encrypted),
            23 => self.app_data(dir, body, frame, out),
            24 => self.info.entry(frame, dir, "Heartbeat".into(), encrypted),
            _ => {}
        }
    }

    fn alert(&mut self, dir: Dir, body: &[u8], frame: u64) {
        if self.info.alerts.len() >= MAX_NOTES {
            return;
        }
        let (level, description) = match body {
            [l, d, ..] => (names::alert_level(*l), names::alert(*d)),
            _ => ("unknown".into(), "truncated alert".into()),
        };
        self.info.alerts.push(Alert {
            frame,
            dir,
            level,
            description,
        });
    }

    fn app_data(&mut self, dir: Dir, body: &[u8], frame: u64, out: &mut dyn FnMut(Dir, Plain<'_>)) {
        if body.is_empty() {
            return;
        }
        let st = &mut self.dirs[dir.idx()];
        st.plain_off += body.len() as u64;
        out(dir, Plain::Data { bytes: body, frame });
    }

    fn handshake_bytes(&mut self, dir: Dir, body: &[u8], frame: u64, encrypted: bool) {
        let st = &mut self.dirs[dir.idx()];
        if st.hs_broken {
            return;
        }
        if st.hs.is_empty() {
            st.hs_frame = frame;
        }
        st.hs.extend_from_slice(body);
        loop {
            let st = &mut self.dirs[dir.idx()];
            if st.hs.len() < 4 {
                return;
            }
            let len =
                usize::from(st.hs[1]) << 16 | usize::from(st.hs[2]) << 8 | usize::from(st.hs[3]);
            if len > MAX_HANDSHAKE_MSG {
                st.hs_broken = true;
                st.hs.clear();
                let f = st.hs_frame;
                self.info.malformed_handshake += 1;
                self.info.anomaly(
                    f,
                    dir,
                    format!("handshake message of {len} bytes is over the {MAX_HANDSHAKE_MSG}-byte limit; skipped"),
                );
                return;
            }
            if st.hs.len() < 4 + len {
                return;
            }
            let msg: Vec<u8> = st.hs.drain(..4 + len).collect();
            // The frame where the message is whole (as Wireshark shows reassembled ones).
            self.message(dir, &msg, frame, encrypted);
        }
    }

    fn message(&mut self, dir: Dir, msg: &[u8], frame: u64, encrypted: bool) {
        let step = handshake::dissect(&mut self.info, msg, self.tls13);
        let name = match step {
            Step::ServerHello { retry: true, .. } => "HelloRetryRequest".to_string(),
            _ => names::handshake(msg[0]),
        };
        self.info.entry(frame, dir, name, encrypted);
        match step {
            Step::ClientHello { random } if self.client_random.is_none() => {
                self.client_random = Some(random);
                self.secrets = self.keys.as_ref().and_then(|k| k.get_now(&random));
            }
            // A HelloRetryRequest exists only in TLS 1.3: the ChangeCipherSpec records
            // around it are the compatibility kind (RFC 8446 §D.4), and the client's
            // second ClientHello and the real ServerHello that follow are in clear.
            Step::ServerHello {
                version,
                retry: true,
                ..
            } => self.tls13 = version == 0x0304,
            Step::ServerHello {
                random,
                version,
                suite,
                retry: false,
            } => {
                self.server_random = random;
                self.tls13 = version == 0x0304;
                self.suite = Suite::from_id(suite);
                self.suite_id = Some(suite);
                self.setup_keys(suite);
            }
            Step::Finished if self.tls13 && encrypted => {
                self.finished[dir.idx()] = true;
                let label = match dir {
                    Dir::Client => Label::ClientTraffic0,
                    Dir::Server => Label::ServerTraffic0,
                };
                let p = self.tls13_keys(label);
                self.dirs[dir.idx()].prot = p;
            }
            Step::KeyUpdate => {
                let st = &mut self.dirs[dir.idx()];
                st.prot = st.prot.as_ref().and_then(Protection::key_update);
            }
            _ => {}
        }
    }

    fn tls13_keys(&mut self, label: Label) -> Option<Protection> {
        let suite = self.suite?;
        let secret = self.secrets.as_ref()?.get(label);
        match secret.and_then(|s| Protection::tls13(suite, s)) {
            Some(p) => Some(p),
            None => {
                self.info.note(format!(
                    "the key log has no usable {label:?} secret for this connection's ClientHello random"
                ));
                None
            }
        }
    }

    fn setup_keys(&mut self, suite_id: u16) {
        if self.keys.is_none() {
            return;
        }
        if self.secrets.is_none() {
            if self.keys.as_ref().is_some_and(|k| k.may_grow()) && !self.gave_up {
                return; // they may still come: the records wait (`wait`)
            }
            self.info.note(
                "no key log entry matches this connection's ClientHello random: not decrypted"
                    .into(),
            );
            return;
        }
        let Some(suite) = self.suite.filter(|s| s.tls13 == self.tls13) else {
            self.info.note(format!(
                "{} is not a cipher suite tcpscope decrypts (AES-GCM and ChaCha20-Poly1305 only)",
                names::suite(suite_id)
            ));
            return;
        };
        self.info.keys_from = self.secrets.as_ref().and_then(|e| e.source);
        self.armed = true;
        if self.tls13 {
            let c = self.tls13_keys(Label::ClientHandshake);
            let s = self.tls13_keys(Label::ServerHandshake);
            self.dirs[0].prot = c;
            self.dirs[1].prot = s;
            return;
        }
        let (Some(cr), Some(master)) = (
            self.client_random,
            self.secrets
                .as_ref()
                .and_then(|e| e.get(Label::ClientRandom)),
        ) else {
            self.info
                .note("the key log has no CLIENT_RANDOM master secret for this connection".into());
            return;
        };
        if let Some((c, s)) = Protection::tls12(suite, master, &cr, &self.server_random) {
            self.dirs[0].pending = Some(c);
            self.dirs[1].pending = Some(s);
        }
    }

    fn on_encrypted(&mut self, dir: Dir, r: &Record, out: &mut dyn FnMut(Dir, Plain<'_>)) {
        let d = dir.idx();
        let Some(p) = self.dirs[d].prot.take() else {
            if !self.wait(dir, r, out) {
                self.opaque(dir, r);
            }
            return;
        };
        let st = &mut self.dirs[d];
        let found = match st.lost {
            None => p.open_at(p.seq, &r.header, &r.body).map(|pl| (p.seq, pl)),
            Some(lost) => trial(&p, st.last_len, lost, r),
        };
        let Some((seq, plain)) = found else {
            self.failed(dir, r, p);
            return;
        };
        let skipped = seq - p.seq;
        let mut p = p;
        p.seq = seq.wrapping_add(1);
        let st = &mut self.dirs[d];
        if let Some(lost) = st.lost.take() {
            // Plaintext lost: the ciphertext lost less each lost record's overhead.
            let overhead = 5 + 16 + if self.tls13 { 1 } else { 8 };
            let len = lost.saturating_sub(skipped.saturating_mul(overhead));
            out(
                dir,
                Plain::Gap {
                    offset: st.plain_off,
                    len,
                },
            );
            st.plain_off += len;
        }
        st.unsynced_failures = 0;
        st.last_len = r.body.len() as u64 + 5;
        st.prot = Some(p);
        self.info.decrypted = true;
        let (ctype, content) = if self.tls13 {
            match inner_plaintext(plain) {
                Some(x) => x,
                None => return,
            }
        } else {
            (r.ctype(), plain)
        };
        self.on_content(dir, ctype, &content, r.last_frame, true, out);
    }

    /// A record that does not authenticate: an anomaly; decryption of the direction
    /// stops (after a gap, a few more records are tried first).
    fn failed(&mut self, dir: Dir, r: &Record, p: Protection) {
        self.info.decrypt_failures += 1;
        let st = &mut self.dirs[dir.idx()];
        let after_gap = st.lost.is_some();
        let what = if after_gap {
            "record after a gap does not authenticate at any nearby sequence number"
        } else {
            "record does not authenticate with the key log's keys (wrong keys, or a damaged record)"
        };
        if after_gap && st.unsynced_failures < MAX_UNSYNCED {
            st.unsynced_failures += 1;
            st.lost = Some(st.lost.unwrap_or(0) + r.body.len() as u64 + 5);
            st.prot = Some(p);
        } else {
            // Nothing after this is decrypted: HTTP sees the rest as missing.
            st.lost = None;
        }
        self.info.anomaly(r.last_frame, dir, what.into());
    }

    /// An encrypted record without keys: what its place says.
    fn opaque(&mut self, dir: Dir, r: &Record) {
        let st = &mut self.dirs[dir.idx()];
        let first_hs = st.opaque_hs == 0;
        if self.tls13 && first_hs {
            // TLS 1.3: each side's first encrypted record is its encrypted handshake
            // (server: EncryptedExtensions…Finished; client: Finished).
            st.opaque_hs += 1;
            let frame = r.first_frame;
            self.info
                .entry(frame, dir, "EncryptedHandshake".into(), true);
        } else if !self.tls13 && r.ctype() == 22 {
            st.opaque_hs += 1;
            let name = if first_hs {
                "Finished"
            } else {
                "EncryptedHandshake"
            };
            self.info.entry(r.first_frame, dir, name.into(), true);
        } else if r.ctype() == 21 && self.info.alerts.len() < MAX_NOTES {
            self.info.alerts.push(Alert {
                frame: r.last_frame,
                dir,
                level: "encrypted".into(),
                description: "encrypted_alert".into(),
            });
        }
    }
}

/// The first record after a gap: try sequence numbers around the one the lost bytes
/// suggest (records of the last size), nearest first.
fn trial(p: &Protection, last_len: u64, lost: u64, r: &Record) -> Option<(u64, Vec<u8>)> {
    let guess = lost / last_len.max(22);
    let max_back = guess.min(MAX_TRIALS / 2);
    for i in 0..MAX_TRIALS {
        let delta = if i % 2 == 0 { i / 2 } else { i.div_ceil(2) };
        let off = if i % 2 == 0 {
            guess.checked_add(delta)?
        } else if delta <= max_back {
            guess - delta
        } else {
            continue;
        };
        let seq = p.seq.checked_add(off)?;
        if let Some(pl) = p.open_at(seq, &r.header, &r.body) {
            return Some((seq, pl));
        }
    }
    None
}
