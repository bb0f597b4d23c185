//! Scale and hostile input: a SYN flood from many distinct ports stays within the
//! connection cap, evictions are counted, and finished connections stream out instead of
//! piling up.

use etherparse::PacketBuilder;
use tcpscope::capture::RawPacket;
use tcpscope::pipeline::{Analyzer, Config};
use tcpscope::ts::Ts;

#[test]
fn syn_flood_is_bounded_by_the_connection_cap() {
    let cap = 5_000;
    let cfg = Config {
        max_connections: cap,
        ..Config::default()
    };
    let mut an = Analyzer::new("synflood", cfg);
    let mut streamed = 0u64;
    an.stream_to(|_c| streamed += 1);
    let mut max_live = 0;
    let n: u32 = 100_000;
    let mut buf = Vec::with_capacity(64);
    for i in 0..n {
        buf.clear();
        let src = [10, 1 + (i >> 16) as u8, (i >> 8) as u8, i as u8];
        PacketBuilder::ethernet2([2; 6], [3; 6])
            .ipv4(src, [10, 200, 0, 1], 64)
            .tcp(1024 + (i % 60000) as u16, 80, i.wrapping_mul(7919), 65535)
            .syn()
            .write(&mut buf, &[])
            .unwrap();
        let p = RawPacket {
            index: u64::from(i) + 1,
            ts: Ts(1_700_000_000_000_000_000 + i64::from(i) * 10_000),
            linktype: 1,
            orig_len: buf.len() as u32,
            data: &buf,
        };
        an.on_packet(&p);
        max_live = max_live.max(an.live_connections());
    }
    assert!(max_live <= cap + 1, "{max_live} tracked at once");
    let (stats, kept) = an.finish();
    assert_eq!(stats.connections, u64::from(n));
    assert!(
        stats.evicted_connections >= u64::from(n) - cap as u64,
        "{}",
        stats.evicted_connections
    );
    assert_eq!(
        streamed,
        u64::from(n),
        "every connection streamed out in id order"
    );
    assert!(kept.is_empty());
}
