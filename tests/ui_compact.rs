//! The file TUI's compact records (`ui::compact`, docs/memory.md): beyond the budget of
//! whole records a connection keeps only its table facts, and opening it analyses its
//! frames again from the file, with the same result as the whole record.

mod common;

use common::pcap::{Pcap, tcp_frame};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use tcpscope::capture::Source;
use tcpscope::parallel::ReadProgress;
use tcpscope::ui::compact::{Budget, reanalyse};
use tcpscope::ui::loader;
use tcpscope::ui::model::{Loaded, RowInfo};

fn cap(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// Every connection of `src` kept compact (a budget of 0 bytes).
fn all_compact(src: &Source) -> Loaded {
    let mut got = Vec::new();
    let stats = loader::load_streaming_within(
        src,
        &ReadProgress::default(),
        Budget::with_bytes(0),
        &mut |v| got.extend(v),
    )
    .expect("load");
    let mut d = Loaded::new(stats, Vec::new());
    d.append_arrived(got);
    d
}

fn json(c: &tcpscope::pipeline::Connection) -> serde_json::Value {
    serde_json::to_value(c).unwrap()
}

#[test]
fn a_compact_connection_opened_is_analysed_again_exactly_as_the_whole_record() {
    let mut checked = 0;
    for name in [
        "http-keepalive.pcap",
        "tcp-lossy-client-side.pcap",
        "tcp-syn-retry.pcap",
        "demo-reset.pcap",
        "h2-parallel.pcap",
        "tcp-midstream.pcap",
        "http-pipelined.pcap",
    ] {
        let path = cap(name);
        if !path.exists() {
            continue;
        }
        let src = Source::File(path);
        let whole = loader::load(&src, |_| {}).expect("load");
        let compact = all_compact(&src);
        assert_eq!(compact.len(), whole.len(), "{name}");
        assert_eq!(compact.compact, whole.len(), "{name}");
        for i in 0..whole.len() {
            let w = whole.conn(i).expect("a whole record");
            assert!(compact.conn(i).is_none(), "{name} #{i}: no record kept");
            let (rw, rc) = (&whole.rows[i], &compact.rows[i]);
            assert!(rc.compact() && !rw.compact());
            assert_eq!(compact.haystack(i), whole.haystack(i), "{name} #{i}");
            let facts = |r: &RowInfo| {
                let ends = (r.id, r.client, r.server, r.first_frame, r.last_frame, r.app);
                let counts = (r.packets, r.bytes, r.http, r.anomalies);
                let states = (r.outcome(), r.irtt_ms(), r.conn_state(), r.finals);
                format!("{ends:?} {counts:?} {states:?} {:?}", r.port_reuse_of())
            };
            assert_eq!(facts(rc), facts(rw), "{name} #{i}");
            assert_eq!(
                (rc.packets, rc.bytes),
                (
                    w.packets.client + w.packets.server,
                    w.payload_bytes.client + w.payload_bytes.server
                )
            );
            let again = reanalyse(&src, rc).expect("analysed again");
            assert_eq!(json(&again), json(w), "{name} connection {}", w.id);
            checked += 1;
        }
        // The capture timeline still holds every packet.
        assert_eq!(compact.timeline.len(), whole.timeline.len(), "{name}");
    }
    assert!(checked > 3, "checked {checked} connections");
}

#[test]
fn the_tui_opens_a_compact_connection_with_its_packets() {
    let path = cap("http-keepalive.pcap");
    let src = Source::File(path.clone());
    let data = all_compact(&src);
    let mut app = tcpscope::ui::app::App::new("http-keepalive.pcap");
    app.set_loaded(data);
    app.update(tcpscope::ui::action::Action::Resize(160, 45));
    app.update(tcpscope::ui::action::Action::Open);
    assert!(app.packets().is_empty(), "not analysed yet");
    tcpscope::ui::load_wanted(&mut app, &src);
    let n = app.packets().len();
    let whole = loader::load(&src, |_| {}).unwrap();
    assert_eq!(
        n,
        tcpscope::ui::model::packets(whole.conn(0).unwrap()).len()
    );
    assert!(n > 3);
}

/// The system allocator, counting the bytes each thread holds, so that a test can see
/// what a structure keeps (the bytes its drop frees). `unsafe` because `GlobalAlloc` is an
/// unsafe trait: each call is passed to `System` unchanged, the counter is a plain
/// thread-local cell (no allocation, no destructor).
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = HELD.try_with(|h| h.set(h.get() + delta));
}

fn held() -> isize {
    HELD.with(Cell::get)
}

// SAFETY: every method forwards to `System` with the caller's own arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count(l.size() as isize);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        count(-(l.size() as isize));
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        count(l.size() as isize);
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        count(new as isize - l.size() as isize);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// What a compact connection costs the file TUI, measured: a capture of 2,000 lone SYNs,
/// all kept compact, loaded into an `App` (rows, table indices, HTTP words), and the bytes
/// its drop frees, less the capture timeline (24 bytes a packet, counted apart in
/// docs/memory.md). 336 bytes before (a `Connection` without its heap parts, an 80-byte
/// `RowInfo`, 24 bytes of table indices); now a 120-byte row and 12 bytes of indices.
#[test]
fn a_compact_record_fits_140_bytes() {
    const N: u16 = 2000;
    let mut pcap = Pcap::new();
    for i in 0..N {
        let client = ([10, 0, (i >> 8) as u8, i as u8], 40000 + i);
        let syn = tcp_frame(client, ([10, 9, 9, 9], 80), 7, 0, "S", 512, &[], &[]);
        pcap.record(i64::from(i) * 1000, &syn);
    }
    let src = Source::File(pcap.write("syns.pcap"));
    let data = all_compact(&src);
    assert_eq!((data.len(), data.compact), (N as usize, N as usize));
    let timeline = data.timeline.capacity() * size_of::<tcpscope::ui::model::Tick>();
    let mut app = tcpscope::ui::app::App::new("syns.pcap");
    app.set_loaded(data);
    assert_eq!(app.table.visible.len(), N as usize);
    let before = held();
    drop(app);
    let freed = (before - held()) as usize - timeline;
    let per = freed / N as usize;
    eprintln!(
        "{freed} B for {N} compact connections: {per} B each (RowInfo {} B) + timeline {timeline} B",
        size_of::<RowInfo>()
    );
    assert!(per <= 140, "{per} bytes a compact connection");
    assert!(size_of::<RowInfo>() <= 120, "{}", size_of::<RowInfo>());
}

/// Batches arrive in the order connections finish, not of their frames: a later batch
/// whose packets go before the last one already on the timeline still leaves it in
/// frame order (the loader sorts only the new ticks when they come after).
#[test]
fn the_timeline_stays_in_frame_order_whatever_order_batches_come_in() {
    let a = loader::load(&Source::File(cap("http-keepalive.pcap")), |_| {}).unwrap();
    let b = loader::load(&Source::File(cap("tcp-syn-retry.pcap")), |_| {}).unwrap();
    let (na, nb) = (a.timeline.len(), b.timeline.len());
    let mut d = Loaded::new(a.stats.clone(), a.into_records());
    let last = d.timeline.last().unwrap().frame;
    assert!(
        b.timeline[0].frame < last,
        "the second batch goes before the last tick"
    );
    d.append(b.into_records());
    assert_eq!(d.timeline.len(), na + nb);
    assert!(d.timeline.windows(2).all(|w| w[0].frame <= w[1].frame));
    // Each tick still names its connection.
    for t in &d.timeline {
        let c = d.conn(t.conn as usize).unwrap();
        assert!(
            tcpscope::ui::model::packets(c)
                .iter()
                .any(|p| p.frame == t.frame)
        );
    }
}

/// What compact records leave out is said on the status line at 160 columns in full and,
/// when the warnings no longer fit, at 80 columns in short: the table's numbers for those
/// rows must not look complete in a classroom's 80x24 either.
#[test]
fn the_status_line_says_rows_are_compact_at_80_and_160_columns() {
    let src = Source::File(cap("http-keepalive.pcap"));
    for (w, h, long) in [(80, 24, false), (160, 45, true)] {
        let data = all_compact(&src);
        let n = data.len();
        assert!(n > 0);
        let mut app = tcpscope::ui::app::App::new("http-keepalive.pcap");
        app.set_loaded(data);
        app.update(tcpscope::ui::action::Action::Resize(w, h));
        let screen = common::ui::screen(&app);
        let status = screen.lines().last().unwrap_or_default();
        assert!(
            status.contains(&format!("⚠ {n}/{n} ")) && status.contains("re-read when opened"),
            "{w}x{h}: {status}"
        );
        // The full note (what is left out of e, the quiz and playback) when there is room.
        assert_eq!(
            status.contains("not in e/quiz/playback"),
            long,
            "{w}x{h}: {status}"
        );
    }
}
