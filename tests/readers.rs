//! The built-in classic-pcap reader must hand out exactly what libpcap does: every
//! frame's number, timestamp (ns), wire length, link type and bytes, and stop at the same
//! place with a warning on damaged files.

mod common;

use std::ops::ControlFlow;
use tcpscope::capture::{self, Source};

type Frame = (u64, i64, u32, u32, Vec<u8>);

fn collect(src: &Source, libpcap: bool) -> (Vec<Frame>, usize) {
    let mut v = Vec::new();
    let mut push = |p: &capture::RawPacket<'_>| {
        v.push((p.index, p.ts.0, p.linktype, p.orig_len, p.data.to_vec()));
        ControlFlow::Continue(())
    };
    let s = if libpcap {
        capture::read_with_libpcap(src, &src.display(), &mut push)
    } else {
        capture::read_source(src, &mut push)
    }
    .unwrap();
    (v, s.warnings.len())
}

#[test]
fn built_in_reader_equals_libpcap_on_every_capture() {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(common::bundled(""))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    if let Some(dir) = common::public_dir() {
        files.extend(common::public_captures(&dir));
    }
    let mut compared = 0;
    for f in files {
        let src = Source::File(f.clone());
        let (ours, w1) = collect(&src, false);
        let (theirs, w2) = collect(&src, true);
        assert_eq!(ours.len(), theirs.len(), "{}", f.display());
        assert!(ours == theirs, "{}: frames differ", f.display());
        assert_eq!(w1, w2, "{}: warnings", f.display());
        compared += ours.len();
    }
    assert!(compared > 3000, "{compared}");
}
