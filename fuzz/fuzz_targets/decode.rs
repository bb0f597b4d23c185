//! The decoder on arbitrary frames of every link type tcpscope reads (and one it does not).
#![no_main]
use libfuzzer_sys::fuzz_target;

const LINKTYPES: [u32; 15] = [
    0, 1, 101, 108, 113, 228, 229, 276, 147, 9, 50, 51, 104, 105, 127,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, frame)) = data.split_first() else {
        return;
    };
    let lt = LINKTYPES[usize::from(sel) % LINKTYPES.len()];
    // orig_len may exceed what was captured (snaplen), never less.
    let orig = frame.len() as u32 + u32::from(sel >> 4) * 100;
    let d = tcpscope::decode::decode(lt, frame, orig);
    if let Some(t) = d.tcp {
        assert!(t.payload.len() <= t.payload_len as usize);
    }
});
