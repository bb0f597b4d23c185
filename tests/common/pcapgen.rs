//! Captures built segment by segment with etherparse's PacketBuilder, written as classic
//! pcap files, for tests that need one exact situation (a refused SYN retried, a FIN
//! ahead of a hole, options cut by the snapshot length) run through the real binary.

#![allow(dead_code, reason = "each test file uses a part of it")]

use super::pcap::{Pcap, tcp_frame};
use std::path::PathBuf;

pub const CLIENT: [u8; 4] = [10, 0, 0, 1];
pub const SERVER: [u8; 4] = [10, 0, 0, 2];

/// One capture being built: a client and a server, frames in the order added.
pub struct Cap {
    frames: Vec<(i64, Vec<u8>, u32)>,
    snaplen: u32,
    pub client_port: u16,
    pub server_port: u16,
    /// Window advertised by segments that do not name one.
    pub window: u16,
}

/// A segment's extras beyond flags, numbers and payload.
#[derive(Clone, Default)]
pub struct Extra {
    /// Raw TCP option bytes (padded to 4 by the builder's caller).
    pub options: Vec<u8>,
    pub window: Option<u16>,
    /// Leave this frame out of the file (it was "never captured") but keep its numbers.
    pub drop: bool,
}

impl Default for Cap {
    fn default() -> Self {
        Cap::new()
    }
}

impl Cap {
    pub fn new() -> Cap {
        Cap {
            frames: Vec::new(),
            snaplen: 65535,
            client_port: 40000,
            server_port: 80,
            window: 64240,
        }
    }

    /// Cut every frame to `n` bytes, as `tcpdump -s n` does.
    pub fn snaplen(mut self, n: u32) -> Cap {
        self.snaplen = n;
        self
    }

    /// Add a segment at `ts_us` microseconds. `flags` is a string of S A F R P.
    #[allow(clippy::too_many_arguments, reason = "a segment's fields, spelled out")]
    pub fn seg_x(
        &mut self,
        ts_us: i64,
        from_client: bool,
        flags: &str,
        seq: u32,
        ack: u32,
        data: &[u8],
        x: Extra,
    ) {
        let (src, dst, sp, dp) = if from_client {
            (CLIENT, SERVER, self.client_port, self.server_port)
        } else {
            (SERVER, CLIENT, self.server_port, self.client_port)
        };
        let window = x.window.unwrap_or(self.window);
        let mut bytes = tcp_frame(
            (src, sp),
            (dst, dp),
            seq,
            ack,
            flags,
            window,
            &x.options,
            data,
        );
        if x.drop {
            return;
        }
        let orig = bytes.len() as u32;
        bytes.truncate(self.snaplen as usize);
        self.frames.push((ts_us, bytes, orig));
    }

    pub fn seg(
        &mut self,
        ts_us: i64,
        from_client: bool,
        flags: &str,
        seq: u32,
        ack: u32,
        data: &[u8],
    ) {
        self.seg_x(ts_us, from_client, flags, seq, ack, data, Extra::default());
    }

    /// A segment built but never captured (its frame is left out of the file).
    pub fn lost(&mut self, from_client: bool, flags: &str, seq: u32, ack: u32, data: &[u8]) {
        let x = Extra {
            drop: true,
            ..Extra::default()
        };
        self.seg_x(0, from_client, flags, seq, ack, data, x);
    }

    /// Set the timestamp of frame `n` (1-based) after the fact.
    pub fn retime(&mut self, n: usize, ts_us: i64) {
        self.frames[n - 1].0 = ts_us;
    }

    /// Add the same frame again (a capture that holds every frame twice).
    pub fn duplicate_last(&mut self, ts_us: i64) {
        let (_, bytes, orig) = self.frames.last().expect("a frame").clone();
        self.frames.push((ts_us, bytes, orig));
    }

    /// The capture as a pcap file.
    pub fn pcap(&self) -> Pcap {
        let mut p = Pcap::with_snaplen(self.snaplen);
        for (ts_us, data, orig) in &self.frames {
            p.record_cut(ts_us * 1000, data, *orig);
        }
        p
    }

    /// Write the capture to a fresh file under the temp dir and return its path.
    pub fn write(&self, name: &str) -> PathBuf {
        self.pcap().write(&format!("{name}.pcap"))
    }
}

/// `tcpscope ARGS...` on the built binary: stdout, or a panic with stderr.
pub fn run(args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(args)
        .output()
        .expect("tcpscope runs");
    assert!(
        out.status.success(),
        "tcpscope {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The JSON report (with packets) of a capture file.
pub fn report(path: &std::path::Path) -> serde_json::Value {
    super::json(super::pcap::report(path, "json", &["--packets"]).as_bytes())
}
