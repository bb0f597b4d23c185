//! HTTP framing on arbitrary byte streams: the input is cut into pushes to either
//! direction, gaps and FINs by a small control byte in front of each chunk.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tcpscope::flow::Dir;
use tcpscope::http::{HttpAssembler, HttpConfig};

fuzz_target!(|data: &[u8]| {
    let cfg = HttpConfig {
        body_cap: 4096,
        decoded_cap: 1 << 20,
        header_cap: 8192,
        max_headers: 32,
    };
    let mut h = HttpAssembler::new(cfg);
    let mut rest = data;
    let mut frame = 0u64;
    while let Some((&ctl, tail)) = rest.split_first() {
        let n = usize::from(ctl >> 3).min(tail.len());
        let (chunk, tail) = tail.split_at(n);
        rest = tail;
        frame += 1;
        let dir = if ctl & 1 == 0 { Dir::Client } else { Dir::Server };
        match (ctl >> 1) & 3 {
            0 | 1 => h.push(dir, chunk, frame, frame as i64),
            2 => h.gap(dir, chunk.len() as u64 + 1),
            _ => h.fin(dir, frame, frame as i64),
        }
    }
    h.finish();
    for x in h.exchanges() {
        if let Some(r) = &x.response {
            assert!(r.body.as_ref().is_none_or(|b| b.len() <= 4096));
        }
    }
});
