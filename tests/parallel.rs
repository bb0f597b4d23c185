//! Sharding connections over threads must not change a single fact: every capture gives
//! the same connections (ids, handshakes, states, analysis, HTTP) with 1 and 3 workers.

mod common;

use tcpscope::capture::Source;
use tcpscope::headless;
use tcpscope::pipeline::Config;

fn run(path: &std::path::Path, workers: usize) -> (serde_json::Value, serde_json::Value) {
    let mut cfg = Config::default();
    cfg.engine.keep_packets = true;
    cfg.workers = workers;
    let (mut st, conns) = headless::run(&Source::File(path.to_path_buf()), cfg).unwrap();
    // How many connections left the table early depends on when each shard sweeps.
    st.expired_connections = 0;
    (
        serde_json::to_value(&st).unwrap(),
        serde_json::to_value(&conns).unwrap(),
    )
}

#[test]
fn sharded_runs_equal_single_threaded_runs() {
    let mut caps: Vec<std::path::PathBuf> = std::fs::read_dir(common::bundled(""))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    if let Some(dir) = common::public_dir() {
        caps.extend(common::public_captures(&dir));
    }
    assert!(caps.len() >= 14);
    for cap in caps {
        let one = run(&cap, 1);
        let three = run(&cap, 3);
        assert_eq!(one.0, three.0, "{}: capture facts", cap.display());
        assert_eq!(one.1, three.1, "{}: connections", cap.display());
    }
}

/// The tests above take the shared public captures too when they are there; without
/// them this one is listed as ignored, so that the smaller coverage shows in the output.
#[test]
#[cfg_attr(
    not(tcpscope_public_captures),
    ignore = "needs the shared public captures at ../shared/captures/public: the tests above checked the bundled captures only"
)]
fn the_shared_public_captures_are_included() {
    let dir = common::public_dir().expect("public captures");
    assert!(!common::public_captures(&dir).is_empty());
}
