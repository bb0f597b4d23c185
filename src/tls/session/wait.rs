//! Live captures with a growing key log: a connection whose secrets are not known yet
//! keeps its encrypted records (bounded per connection and, through the key log, for all
//! connections together) and asks again; once the secrets come, what waited is decrypted
//! in arrival order.

use super::{Label, Plain, Record, TlsSession};
use crate::flow::Dir;

/// Encrypted records kept while a growing key log may still bring the connection's
/// secrets (live capture: the client writes them as the handshake goes on), and their
/// bytes; past either, the connection is shown undecrypted.
const MAX_WAITING: usize = 64;
const MAX_WAITING_BYTES: usize = 256 << 10;

impl TlsSession {
    /// An encrypted record without keys while the key log may still grow: keep it (up to
    /// the limits) and ask the key log again; with the secrets, decrypt what waited.
    pub(super) fn wait(
        &mut self,
        dir: Dir,
        r: &Record,
        out: &mut dyn FnMut(Dir, Plain<'_>),
    ) -> bool {
        let grows = self.keys.as_ref().is_some_and(|k| k.may_grow());
        if self.gave_up || self.replaying || !grows || self.client_random.is_none() {
            return false;
        }
        let size = r.body.len() + 5;
        let held = self.keys.as_ref().is_some_and(|k| k.hold(size));
        if !held
            || self.waiting.len() >= MAX_WAITING
            || self.waiting_bytes + size > MAX_WAITING_BYTES
        {
            if held {
                self.unhold(size);
            }
            self.give_up();
            return false;
        }
        self.waiting_bytes += size;
        let kept = Record {
            header: r.header,
            body: r.body.clone(),
            first_frame: r.first_frame,
            last_frame: r.last_frame,
        };
        self.waiting.push((dir, kept));
        if self.rearm(false) {
            self.replay(out);
        }
        true
    }

    /// Ask the key log again (`now`: whatever the feed's rate limit); set up what the
    /// secrets now allow. True when a waiting record's direction has keys.
    pub(super) fn rearm(&mut self, now: bool) -> bool {
        let (Some(k), Some(cr)) = (self.keys.as_ref(), self.client_random) else {
            return false;
        };
        let Some(e) = k.refresh(&cr, now) else {
            return false;
        };
        self.secrets = Some(e);
        let Some(id) = self.suite_id else {
            return false;
        };
        if !self.armed {
            self.setup_keys(id);
        }
        for dir in [Dir::Client, Dir::Server] {
            let d = dir.idx();
            if self.dirs[d].prot.is_some() {
                continue;
            }
            if !self.tls13 && self.dirs[d].after_ccs {
                self.dirs[d].prot = self.dirs[d].pending.take();
            } else if self.tls13 && self.finished[d] {
                let label = match dir {
                    Dir::Client => Label::ClientTraffic0,
                    Dir::Server => Label::ServerTraffic0,
                };
                self.dirs[d].prot = self.tls13_keys(label);
            }
        }
        self.waiting
            .iter()
            .any(|(d, _)| self.dirs[d.idx()].prot.is_some())
    }

    /// Decrypt the waiting records whose direction now has keys, in arrival order.
    pub(super) fn replay(&mut self, out: &mut dyn FnMut(Dir, Plain<'_>)) {
        self.replaying = true;
        let queued = std::mem::take(&mut self.waiting);
        for (dir, rec) in queued {
            if self.dirs[dir.idx()].prot.is_some() {
                self.unhold(rec.body.len() + 5);
                self.waiting_bytes -= rec.body.len() + 5;
                self.on_encrypted(dir, &rec, out);
            } else {
                self.waiting.push((dir, rec));
            }
        }
        self.replaying = false;
    }

    /// The secrets did not come: the waiting records are shown as ciphertext.
    pub(super) fn give_up(&mut self) {
        self.gave_up = true;
        self.unhold(self.waiting_bytes);
        self.waiting_bytes = 0;
        for (dir, rec) in std::mem::take(&mut self.waiting) {
            self.opaque(dir, &rec);
        }
        if self.secrets.is_none() {
            self.info.note(
                "no key log entry matches this connection's ClientHello random: not decrypted (the key log was read again while its records waited)"
                    .into(),
            );
        }
    }

    fn unhold(&self, n: usize) {
        if let Some(k) = &self.keys {
            k.unhold(n);
        }
    }
}

impl Drop for TlsSession {
    /// Records still waiting for their secrets give their bytes back to the budget.
    fn drop(&mut self) {
        self.unhold(self.waiting_bytes);
    }
}
