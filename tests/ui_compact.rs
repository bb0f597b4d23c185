//! The file TUI's compact records (`ui::compact`, docs/memory.md): beyond the budget of
//! whole records a connection keeps only its table facts, and opening it analyses its
//! frames again from the file, with the same result as the whole record.

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
        assert_eq!(compact.conns.len(), whole.conns.len(), "{name}");
        assert_eq!(compact.compact, whole.conns.len(), "{name}");
        for (i, w) in whole.conns.iter().enumerate() {
            let c = &compact.conns[i];
            assert!(c.summary.is_none() && c.http.is_empty(), "{name} #{i}");
            let (rw, rc) = (&whole.rows[i], &compact.rows[i]);
            assert!(rc.compact && !rw.compact);
            assert_eq!(rc.haystack(c), rw.haystack(w), "{name} #{i}");
            assert_eq!(
                (rc.outcome, rc.conn_state, rc.finals, rc.http, rc.anomalies),
                (rw.outcome, rw.conn_state, rw.finals, rw.http, rw.anomalies)
            );
            let again = reanalyse(&src, c).expect("analysed again");
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
    assert_eq!(n, tcpscope::ui::model::packets(&whole.conns[0]).len());
    assert!(n > 3);
}

/// What a compact connection costs the UI: its `Connection` without any heap part, its
/// row facts and the table's indices. 2 KB a connection before (a whole record each).
#[test]
fn a_compact_record_fits_340_bytes() {
    use std::mem::size_of;
    let per = size_of::<tcpscope::pipeline::Connection>() + size_of::<RowInfo>() + 24;
    eprintln!(
        "Connection {} B + RowInfo {} B + table 24 B = {per} B",
        size_of::<tcpscope::pipeline::Connection>(),
        size_of::<RowInfo>()
    );
    assert!(per <= 340, "{per} bytes a compact connection");
}
