//! Building test captures: TCP segments made with etherparse's `PacketBuilder`, written
//! as a classic nanosecond pcap (24-byte global header, 16-byte record headers) with
//! the timestamps the test chooses, bogus ones included.

use etherparse::PacketBuilder;
use std::path::PathBuf;

/// A classic pcap (nanosecond magic, Ethernet) being written.
pub struct Pcap {
    bytes: Vec<u8>,
    pub frames: u64,
}

impl Default for Pcap {
    fn default() -> Self {
        Pcap::new()
    }
}

impl Pcap {
    pub fn new() -> Pcap {
        Pcap::with_snaplen(262_144)
    }

    /// A capture whose header announces snapshot length `snaplen` (records are cut by
    /// [`Pcap::record_cut`]).
    pub fn with_snaplen(snaplen: u32) -> Pcap {
        let mut b = Vec::new();
        b.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&0i32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&snaplen.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        Pcap {
            bytes: b,
            frames: 0,
        }
    }

    /// One record stamped `ts_ns` (nanoseconds since the epoch, after 1970 and before 2106).
    pub fn record(&mut self, ts_ns: i64, frame: &[u8]) {
        self.record_cut(ts_ns, frame, frame.len() as u32);
    }

    /// One record of which only `frame` was captured, out of `orig_len` bytes on the wire.
    pub fn record_cut(&mut self, ts_ns: i64, frame: &[u8], orig_len: u32) {
        let secs = u32::try_from(ts_ns / 1_000_000_000).expect("timestamp fits a pcap");
        let nanos = (ts_ns % 1_000_000_000) as u32;
        self.bytes.extend_from_slice(&secs.to_le_bytes());
        self.bytes.extend_from_slice(&nanos.to_le_bytes());
        self.bytes
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(&orig_len.to_le_bytes());
        self.bytes.extend_from_slice(frame);
        self.frames += 1;
    }

    /// Write the file as `name` in a temporary directory of its own (tests run at once
    /// may write the same name).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn write(&self, name: &str) -> PathBuf {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tcpscope-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, &self.bytes).unwrap();
        p
    }
}

/// One Ethernet + IPv4 + TCP frame from `src` to `dst` (address, port). `flags`: S(yn)
/// A(ck) P(sh) F(in) R(st); `options`: raw TCP option bytes (a multiple of 4, or empty).
#[allow(clippy::too_many_arguments, reason = "a segment's fields, spelled out")]
pub fn tcp_frame(
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    seq: u32,
    ack: u32,
    flags: &str,
    window: u16,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src.0, dst.0, 64)
        .tcp(src.1, dst.1, seq, window);
    for ch in flags.chars() {
        b = match ch {
            'S' => b.syn(),
            'A' => b.ack(ack),
            'P' => b.psh(),
            'F' => b.fin(),
            'R' => b.rst(),
            _ => b,
        };
    }
    if !options.is_empty() {
        b = b.options_raw(options).expect("options fit");
    }
    let mut frame = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut frame, payload).expect("packet builds");
    frame
}

/// One IPv4 TCP connection: both sides' next sequence numbers, so tests write segments
/// by what they carry. `flags`: S(yn) A(ck) P(sh) F(in) R(st).
pub struct Tcp {
    pub client: ([u8; 4], u16),
    pub server: ([u8; 4], u16),
    pub cseq: u32,
    pub sseq: u32,
}

impl Tcp {
    pub fn new(client: ([u8; 4], u16), server: ([u8; 4], u16)) -> Tcp {
        Tcp {
            client,
            server,
            cseq: 1000,
            sseq: 5000,
        }
    }

    /// A segment from the client (`from_client`) or the server, acknowledging everything
    /// the other side sent so far when `flags` has `A`.
    pub fn seg(
        &mut self,
        pcap: &mut Pcap,
        ts_ns: i64,
        from_client: bool,
        flags: &str,
        payload: &[u8],
    ) {
        let (src, dst, seq, ack) = if from_client {
            (self.client, self.server, self.cseq, self.sseq)
        } else {
            (self.server, self.client, self.sseq, self.cseq)
        };
        let frame = tcp_frame(src, dst, seq, ack, flags, 65535, &[], payload);
        pcap.record(ts_ns, &frame);
        let len =
            payload.len() as u32 + u32::from(flags.contains('S')) + u32::from(flags.contains('F'));
        if from_client {
            self.cseq = self.cseq.wrapping_add(len);
        } else {
            self.sseq = self.sseq.wrapping_add(len);
        }
    }

    /// SYN, SYN-ACK, ACK at `t`, `t + rtt/2`, `t + rtt`.
    pub fn handshake(&mut self, pcap: &mut Pcap, t: i64, rtt: i64) {
        self.seg(pcap, t, true, "S", &[]);
        self.seg(pcap, t + rtt / 2, false, "SA", &[]);
        self.seg(pcap, t + rtt, true, "A", &[]);
    }

    /// FIN from the client, FIN-ACK from the server, the last ACK, `step` apart from `t`.
    pub fn close(&mut self, pcap: &mut Pcap, t: i64, step: i64) {
        self.seg(pcap, t, true, "FA", &[]);
        self.seg(pcap, t + step, false, "FA", &[]);
        self.seg(pcap, t + 2 * step, true, "A", &[]);
    }
}

/// The binary's output for `report FILE --format FORMAT` plus `extra`, as text.
pub fn report(file: &std::path::Path, format: &str, extra: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .arg("report")
        .arg(file)
        .args(["--format", format])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "report {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
