//! CONNECT tunnels and upgraded connections: counting the bytes after the answer and
//! telling from the first ones what runs inside.
//!
//! Owns: the tunnel sniffing state. Must not touch HTTP parsing.

use super::anomaly::Anomaly;
use super::assembler::HttpAssembler;
use super::detect::{self, Sniff};
use super::framing;
use super::messages::Request;
use super::messages::Tunnel;
use super::state::Phase;
use super::{AppProto, Dir, Status};

/// An Upgrade: h2c answered by 101 (RFC 7540 §3.2): the request became stream 1 and the
/// bytes after the 101 are HTTP/2, for the http2 module to take once.
pub(super) struct H2cHandoff {
    request: Option<Request>,
    /// Tunnel bytes seen before the hand-over, in order.
    held: Vec<(Dir, Vec<u8>)>,
}

/// The upgraded request and the tunnel bytes seen so far, in order.
pub type H2cTaken = (Request, Vec<(Dir, Vec<u8>)>);

impl HttpAssembler {
    /// Once, after the 101 to an Upgrade: h2c: the upgraded request and the bytes that
    /// followed the 101 in the pushes so far. Later bytes are still counted as tunnel
    /// bytes here; the caller passes them to HTTP/2 itself.
    pub fn take_h2c(&mut self) -> Option<H2cTaken> {
        let h = self.h2c.as_mut()?;
        let req = h.request.take()?;
        Some((req, std::mem::take(&mut h.held)))
    }
}

/// Bytes of a tunnel looked at to tell what runs inside.
pub(super) const TUNNEL_SNIFF: usize = 16;

pub(super) struct TunnelSniff {
    pub(super) idx: usize,
    pub(super) early: [[u8; TUNNEL_SNIFF]; 2],
    pub(super) early_len: [usize; 2],
    pub(super) done: [bool; 2],
}

impl HttpAssembler {
    /// Bytes inside a tunnel: counted, and the first ones tell what runs inside.
    pub(super) fn tunnel_bytes(&mut self, dir: Dir, bytes: &[u8]) {
        let cap = self.cfg.header_cap;
        if let Some(h) = self.h2c.as_mut().filter(|h| h.request.is_some()) {
            h.held.push((dir, bytes.to_vec()));
        }
        let Some(t) = self.tunnel.as_mut() else {
            return;
        };
        let Some(tu) = self
            .exchanges
            .get_mut(t.idx)
            .and_then(|e| e.tunnel.as_mut())
        else {
            return;
        };
        let n = bytes.len() as u64;
        match dir {
            Dir::Client => tu.client_bytes = tu.client_bytes.saturating_add(n),
            Dir::Server => tu.server_bytes = tu.server_bytes.saturating_add(n),
        }
        let d = dir.idx();
        if tu.app != AppProto::Unknown || t.done[d] {
            return;
        }
        for &b in bytes {
            let Some(slot) = t.early[d].get_mut(t.early_len[d]) else {
                break;
            };
            *slot = b;
            t.early_len[d] += 1;
        }
        let early = t.early[d].get(..t.early_len[d]).unwrap_or_default();
        let full = t.early_len[d] >= TUNNEL_SNIFF;
        // The client's first command is read against the server's greeting (SMTP and
        // FTP both greet with 220).
        let s = Dir::Server.idx();
        let greeting = match dir {
            Dir::Client => t.early[s].get(..t.early_len[s]).unwrap_or_default(),
            Dir::Server => &[],
        };
        match detect::sniff(dir, early, greeting) {
            Sniff::Found(p) => tu.app = p,
            Sniff::Maybe if !full => {}
            // HTTP through a proxy: a start line from the first byte (consistent over
            // all the bytes looked at is enough).
            Sniff::Maybe | Sniff::No => match detect::find_start(dir, early, cap) {
                Status::Complete(0, ()) => tu.app = AppProto::Http,
                Status::Partial(0) if !early.is_empty() => {
                    if full {
                        tu.app = AppProto::Http;
                    }
                }
                _ => t.done[d] = true,
            },
        }
    }

    /// The answer `idx` got in `dir` (its head ending in `frame`) opened a tunnel: a 101
    /// (`upgrade`: the answer's Upgrade header, if any) or a 2xx to CONNECT (None).
    /// Both directions carry tunnel bytes from here on.
    pub(super) fn open_tunnel(
        &mut self,
        dir: Dir,
        idx: usize,
        upgrade: Option<Option<String>>,
        frame: u64,
    ) {
        let request = self.exchanges[idx].request.as_ref();
        let (kind, target, note) = match upgrade {
            Some(upgrade) => {
                let protocol = upgrade
                    .or_else(|| {
                        request
                            .and_then(|r| framing::header(&r.headers, "upgrade"))
                            .map(str::to_string)
                    })
                    .unwrap_or_else(|| "unknown".to_string());
                // As the target was always read back from the "upgraded: " note.
                let target = protocol.trim_start_matches("upgraded: ").to_string();
                if target.trim().eq_ignore_ascii_case("h2c") {
                    self.h2c = request.cloned().map(|r| H2cHandoff {
                        request: Some(r),
                        held: Vec::new(),
                    });
                }
                ("upgrade", target, Anomaly::Upgraded { protocol })
            }
            None => (
                "connect",
                request.map(|r| r.uri.clone()).unwrap_or_default(),
                Anomaly::Tunnel,
            ),
        };
        self.exchanges[idx].note(note);
        self.exchanges[idx].tunnel = Some(Tunnel {
            kind,
            target,
            app: AppProto::Unknown,
            frame,
            client_bytes: 0,
            server_bytes: 0,
        });
        self.break_run();
        self.tunnel = Some(TunnelSniff {
            idx,
            early: [[0; TUNNEL_SNIFF]; 2],
            early_len: [0; 2],
            done: [false; 2],
        });
        self.end_message(dir, idx, true);
        let mut held = Vec::new();
        for (k, st) in self.dirs.iter_mut().enumerate() {
            st.phase = Phase::Tunnel;
            st.loss = None;
            // Bytes the other side sent ahead of the answer are the tunnel's first.
            held.push((k, std::mem::take(&mut st.buf)));
            st.discard_buf(false);
        }
        for (k, b) in held {
            let d = if k == Dir::Client.idx() {
                Dir::Client
            } else {
                Dir::Server
            };
            self.tunnel_bytes(d, &b);
        }
        // The other side may have a message in flight (rare); it ends here.
        let other = match dir {
            Dir::Client => Dir::Server,
            Dir::Server => Dir::Client,
        };
        self.finalize(other, false);
    }
}
