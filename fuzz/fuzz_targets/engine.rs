//! The whole pipeline (decode, flows, TCP engine, reassembly, HTTP) on an arbitrary
//! sequence of Ethernet frames: the input is split into frames by 2-byte lengths.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tcpscope::analyze::{Analyzer, Config};
use tcpscope::capture::RawPacket;
use tcpscope::ts::Ts;

fuzz_target!(|data: &[u8]| {
    let mut cfg = Config {
        max_connections: 8,
        ..Config::default()
    };
    cfg.engine.keep_packets = true;
    cfg.engine.reassembly_cap = 4096;
    let mut an = Analyzer::new("fuzz", cfg);
    let mut rest = data;
    let mut index = 0u64;
    while rest.len() >= 3 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])) % 1600;
        let step = rest[2];
        rest = &rest[3..];
        let take = len.min(rest.len());
        let (frame, tail) = rest.split_at(take);
        rest = tail;
        index += 1;
        an.on_packet(&RawPacket {
            index,
            // Time mostly moves forward, sometimes jumps: exercises expiry.
            ts: Ts(1_700_000_000_000_000_000 + (index as i64) * i64::from(step) * 1_000_000),
            linktype: 1,
            orig_len: frame.len() as u32,
            data: frame,
        });
    }
    let (_stats, conns) = an.finish();
    for c in &conns {
        let _ = serde_json::to_string(c);
    }
});
