//! `tcpscope diagram`: slices of a long connection (`--frames A-B`, `--time A-B`) in every
//! format, clear errors for bad ranges, and the sequence-number graph (`--graph seq`),
//! whose model is checked point by point against tshark's reading of the lossy capture.

use std::path::PathBuf;
use std::process::Command;
use tcpscope::capture::Source;
use tcpscope::flow::Dir;
use tcpscope::pipeline::{Config, Connection};
use tcpscope::report::seqgraph::{self, SegKind};
use tcpscope::report::seqsvg;
use tcpscope::report::slice::{FrameRange, Slice, TimeRange};

const LOSSY: &str = "captures/http-lossy-download.pcap";

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn lossy() -> Connection {
    let mut cfg = Config::default();
    cfg.engine.keep_packets = true;
    let (_, mut conns) = tcpscope::headless::run(&Source::File(path(LOSSY)), cfg).unwrap();
    conns.remove(0)
}

/// `tcpscope diagram ARGS`: (success, stdout, stderr).
fn diagram(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .arg("diagram")
        .arg(path(LOSSY))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn svg_height(s: &str) -> u32 {
    let i = s.find("height=\"").unwrap() + 8;
    s[i..].split('"').next().unwrap().parse().unwrap()
}

/// Frame numbers of the arrows drawn (`[N]` labels).
fn frames_drawn(s: &str) -> Vec<u64> {
    s.match_indices('[')
        .filter_map(|(i, _)| {
            let rest = &s[i + 1..];
            let end = rest.find(']')?;
            rest[..end].parse().ok()
        })
        .collect()
}

#[test]
fn frames_slice_every_format() {
    let (ok, whole, _) = diagram(&["--format", "svg"]);
    assert!(ok);
    let (ok, part, err) = diagram(&["--format", "svg", "--frames", "80-86"]);
    assert!(ok, "{err}");
    assert!(svg_height(&whole) > 30_000, "{}", svg_height(&whole));
    assert!(svg_height(&part) < 700, "{}", svg_height(&part));
    for format in ["svg", "ascii", "mermaid"] {
        let (ok, s, err) = diagram(&["--format", format, "--frames", "80-86"]);
        assert!(ok, "{format}: {err}");
        assert_eq!(
            frames_drawn(&s),
            (80..=86).collect::<Vec<_>>(),
            "{format}:\n{s}"
        );
        assert!(s.contains("79 earlier packets not drawn"), "{format}:\n{s}");
        assert!(s.contains("877 later packets not drawn"), "{format}:\n{s}");
    }
    // The whole connection has no such notes.
    assert!(!whole.contains("not drawn"));
}

#[test]
fn time_slice_keeps_the_connections_clock() {
    // Frames 82 and 83 are at 0.000752 and 0.000761 s (tshark's frame.time_relative).
    let (ok, s, err) = diagram(&["--format", "ascii", "--time", "0.000752-0.000761"]);
    assert!(ok, "{err}");
    assert_eq!(frames_drawn(&s), vec![82, 83], "{s}");
    assert!(s.contains("  0.000752 "), "{s}");
    // Open-ended: from the last ACK on.
    let (ok, s, _) = diagram(&["--format", "mermaid", "--frames", "963-"]);
    assert!(ok);
    assert_eq!(frames_drawn(&s), vec![963]);
}

#[test]
fn bad_ranges_say_what_is_wrong() {
    let (ok, _, err) = diagram(&["--frames", "9-5"]);
    assert!(!ok);
    assert!(err.contains("backwards (write 5-9)"), "{err}");
    let (ok, _, err) = diagram(&["--frames", "2000-3000"]);
    assert!(!ok);
    assert!(
        err.contains("--frames 2000-3000 holds none of its packets")
            && err.contains("spans frames 1-963"),
        "{err}"
    );
    let (ok, _, err) = diagram(&["--time", "5-6"]);
    assert!(!ok);
    assert!(err.contains("0-0.010930 s"), "{err}");
    let (ok, _, err) = diagram(&["--frames", "0-4"]);
    assert!(!ok && err.contains("frames count from 1"), "{err}");
    let (ok, _, err) = diagram(&["--frames", "3-4", "--time", "0-1"]);
    assert!(!ok && err.contains("cannot be used with"), "{err}");
    let (ok, _, err) = diagram(&["--graph", "seq", "--format", "ascii"]);
    assert!(!ok && err.contains("SVG only"), "{err}");
}

#[test]
fn slice_parsing() {
    assert_eq!("5-9".parse(), Ok(FrameRange { from: 5, to: 9 }));
    assert!("9-5".parse::<FrameRange>().is_err());
    assert_eq!("0.5-1".parse(), Ok(TimeRange { from: 0.5, to: 1.0 }));
}

/// The graph model against tshark (`tshark -r captures/http-lossy-download.pcap`):
/// 759 server data segments (`tcp.srcport==80 && tcp.len>0`) plus its SYN and FIN, 200
/// client ACKs, 386 SACK blocks, the first retransmission frame 84 (seq 62518, len 1448,
/// 0.000765 s) answering dup ACK #1 in frame 83 (ACK 62518, SACK 63966-69758, window
/// 21504, tshark's calculated window).
#[test]
fn seq_graph_points_match_tshark() {
    let c = lossy();
    let sacks = seqsvg::sack_blocks(&Source::File(path(LOSSY)), &c);
    let pkts = c.summary.as_ref().unwrap().packets.as_ref().unwrap();
    let g = seqgraph::build(pkts, &sacks, Slice::All);
    let srv = &g.dirs[1];
    assert_eq!(srv.dir, Dir::Server);
    assert_eq!(srv.segments.len(), 759 + 2);
    assert_eq!(srv.acks.len(), 200);
    assert_eq!(srv.sacks.len(), 386);
    assert_eq!(srv.acks.iter().filter(|a| a.dup.is_some()).count(), 40);
    let first_re = srv
        .segments
        .iter()
        .find(|s| s.kind.is_retransmission())
        .unwrap();
    assert_eq!(
        (first_re.frame, first_re.seq, first_re.end),
        (84, 62518, 63966)
    );
    assert!((first_re.t - 0.000765).abs() < 1e-9, "{}", first_re.t);
    let dup = srv.acks.iter().find(|a| a.frame == 83).unwrap();
    assert_eq!(
        (dup.ack, dup.window_edge, dup.dup),
        (62518, 62518 + 21504, Some(1))
    );
    let sack = srv.sacks.iter().find(|s| s.frame == 83).unwrap();
    assert_eq!((sack.left, sack.right), (63966, 69758));
    // The last ACK (frame 963) acknowledges the server's FIN: 1048831.
    assert_eq!(
        srv.acks.last().map(|a| (a.frame, a.ack)),
        Some((963, 1048831))
    );
    assert_eq!(srv.segments[0].kind, SegKind::Syn);
    assert_eq!(srv.segments.last().unwrap().kind, SegKind::Fin);
    // Fast retransmits: frame 164 (seq 147950), as tshark flags it.
    assert!(
        srv.segments
            .iter()
            .any(|s| s.frame == 164 && s.kind == SegKind::FastRetransmission && s.seq == 147950)
    );
    // The client's data: the 86-byte request in one segment.
    assert_eq!(g.dirs[0].new_bytes(), 86);
}

/// The client's panel of the lossy download: an 86-byte request under the server's
/// 65,624-byte window edge. The span follows the data (0 to 88, plus a quarter), not the
/// window, which is clipped at the top and said so in the SVG.
#[test]
fn a_window_far_above_the_data_is_clipped_not_scaled_to() {
    let c = lossy();
    let sacks = seqsvg::sack_blocks(&Source::File(path(LOSSY)), &c);
    let pkts = c.summary.as_ref().unwrap().packets.as_ref().unwrap();
    let g = seqgraph::build(pkts, &sacks, Slice::All);
    let cli = &g.dirs[0];
    // Data to 88: the request ends at 87, its FIN takes one more.
    assert_eq!(cli.seq_span(), Some((0, 88 + 88 / 4)));
    let top = cli.acks.iter().map(|a| a.window_edge).max().unwrap();
    assert_eq!(cli.window_clipped(), Some(top));
    // The server's window stays within twice its data: drawn whole.
    assert_eq!(g.dirs[1].window_clipped(), None);
    let svg = seqsvg::render_svg(&c, &sacks, Slice::All).unwrap();
    assert!(
        svg.contains(&format!("window edge above the top (up to seq {top})")),
        "{svg}"
    );
}

#[test]
fn seq_graph_slices_and_svg() {
    let c = lossy();
    let pkts = c.summary.as_ref().unwrap().packets.as_ref().unwrap();
    let g = seqgraph::build(
        pkts,
        &Default::default(),
        Slice::Frames(FrameRange { from: 80, to: 86 }),
    );
    let frames: Vec<u64> = g.dirs[1].segments.iter().map(|s| s.frame).collect();
    assert_eq!(frames, vec![80, 81, 84]);
    let acks: Vec<u64> = g.dirs[1].acks.iter().map(|a| a.frame).collect();
    assert_eq!(acks, vec![82, 83, 85, 86]);
    let (ok, svg, err) = diagram(&["--graph", "seq", "--frames", "60-200"]);
    assert!(ok, "{err}");
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
    assert!(
        svg.contains("frame 84: retransmission 62518-63966"),
        "{svg}"
    );
    assert!(svg.contains("frame 83: SACK 63966-69758"));
    assert!(svg.contains("frame 83: dup ACK #1 of 62518"));
    assert!(svg.contains("(--frames 60-200)"));
    let (ok, svg, _) = diagram(&["--format", "svg", "--graph", "seq"]);
    assert!(ok);
    assert!(svg.contains("1057517 new bytes in 761 segments, 21 retransmitted"));
}
