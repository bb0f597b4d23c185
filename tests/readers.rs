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

/// A file larger than several mapped windows (2 MiB) and read blocks (1 MiB), records of
/// every size so that many straddle a window's end, and a last record cut short: the
/// built-in reader still hands out libpcap's frames and warning.
#[test]
fn records_across_window_ends_and_a_cut_last_record() {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65_535u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    let mut i = 0u32;
    while f.len() < 5 << 20 {
        let len = (i * 7919) % 9000 + 1;
        for x in [i, i % 1_000_000, len, len + 3] {
            f.extend_from_slice(&x.to_le_bytes());
        }
        f.extend((0..len).map(|k| (k ^ i) as u8));
        i += 1;
    }
    f.truncate(f.len() - 5);
    let path = std::env::temp_dir().join(format!("tcpscope-windows-{}.pcap", std::process::id()));
    std::fs::write(&path, &f).unwrap();
    let src = Source::File(path.clone());
    let (ours, w1) = collect(&src, false);
    let (theirs, w2) = collect(&src, true);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(ours.len(), i as usize - 1);
    assert!(ours == theirs, "frames differ");
    assert_eq!((w1, w2), (1, 1));
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
