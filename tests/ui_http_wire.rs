//! HTTP visible on the wire (issue 13 §4, ladder and HTTP tab): the ladder labels the HTTP
//! each data segment carries, the HTTP tab has a chunk table, and the timing bar is true
//! (handshake only on a connection's first exchange, from the first SYN with its retries;
//! reused connections say so; a reset response says where and after how many bytes).
//! Numbers are checked against the HTTP analysis, which parses the bytes independently.

mod common;

use common::ui::{cap, load, screen};
use tcpscope::capture::Source;
use tcpscope::ui::action::Action;
use tcpscope::ui::app::{App, Tab};
use tcpscope::ui::load_wanted;
use tcpscope::ui::model::packets;

fn open(name: &str, w: u16, h: u16) -> (App, Source) {
    let mut app = App::new(name);
    app.update(Action::Resize(w, h));
    app.set_loaded(load(name));
    app.open_row(0);
    let src = Source::File(cap(name));
    load_wanted(&mut app, &src);
    (app, src)
}

fn tab(app: &mut App, src: &Source, t: Tab) -> String {
    app.update(Action::SelectTab(t));
    load_wanted(app, src);
    screen(app)
}

fn body_of(label: &str) -> u64 {
    label
        .split(" + ")
        .filter_map(|p| {
            p.strip_prefix("body ")?
                .strip_suffix(" B")?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

#[test]
fn ladder_labels_requests_heads_chunks_and_bodies() {
    let (mut app, src) = open("http-gzip-chunked.pcap", 160, 45);
    let s = tab(&mut app, &src, Tab::Ladder);
    for want in [
        "GET /text-200k.txt",
        "200 OK (head)",
        "chunk 0x1de1 (7649 B)",
        "body 1448 B",
        "last-chunk",
        "GET /data.json",
    ] {
        assert!(s.contains(want), "{want} missing:\n{s}");
    }
    // The chunk table agrees with the HTTP analysis: the chunks' sizes add up to the
    // body it decoded from the transfer coding, and end with the last-chunk.
    let c = app.conn().unwrap();
    let st = match app.open_stream() {
        Some(Ok(s)) => s,
        _ => panic!("stream"),
    };
    for (i, x) in c.http.iter().enumerate() {
        let r = x.response.as_ref().unwrap();
        let chunks = &st.wire.chunks[i];
        assert!(r.chunked);
        assert_eq!(
            chunks.iter().map(|c| c.size).sum::<u64>(),
            r.body_bytes,
            "exchange {i}"
        );
        assert_eq!(chunks.last().unwrap().size, 0);
        assert!(
            chunks
                .iter()
                .all(|k| k.frame >= r.frame && k.frame <= r.end_frame)
        );
    }
    let s = tab(&mut app, &src, Tab::Http);
    assert!(s.contains("chunks: 2 (size, frame)"), "{s}");
    assert!(
        s.contains("0x1de1") && s.contains("7649 B") && s.contains("last-chunk"),
        "{s}"
    );
}

/// Over every bundled capture without a gap, the body bytes the ladder labels add up to
/// the bodies the HTTP analysis counted, and every request label is a request's.
#[test]
fn body_labels_add_up_to_the_analysis_bodies() {
    let mut checked = 0;
    for e in std::fs::read_dir(cap("")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".pcap") {
            continue;
        }
        let (app, _) = open(&name, 120, 30);
        let c = app.conn().unwrap();
        let Some(Ok(st)) = app.open_stream() else {
            continue;
        };
        // HTTP/1.x only: an HTTP/2 connection's bytes are frames, not labelled here.
        if c.app != tcpscope::http::AppProto::Http {
            continue;
        }
        if c.http.is_empty() || st.lines.iter().any(|l| l.gap) || st.truncated {
            continue;
        }
        if c.http
            .iter()
            .any(|x| x.tunnel.is_some() || x.request.is_none() || x.response.is_none())
        {
            continue;
        }
        let labelled: u64 = st.wire.labels.values().map(|l| body_of(l)).sum();
        let counted: u64 = c
            .http
            .iter()
            .map(|x| {
                x.request.as_ref().unwrap().body_bytes + x.response.as_ref().unwrap().body_bytes
            })
            .sum();
        assert_eq!(labelled, counted, "{name}: {:?}", st.wire.labels);
        for x in &c.http {
            let r = x.request.as_ref().unwrap();
            let want = format!("{} {}", r.method, r.uri);
            assert!(
                st.wire
                    .labels
                    .get(&r.frame)
                    .is_some_and(|l| l.contains(&want)),
                "{name}: frame {} lacks {want}: {:?}",
                r.frame,
                st.wire.labels.get(&r.frame)
            );
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} captures checked");
}

#[test]
fn handshake_only_on_the_first_exchange_and_reuse_said() {
    let (mut app, src) = open("demo-keep-alive.pcap", 120, 40);
    let s = tab(&mut app, &src, Tab::Http);
    assert!(s.contains("H handshake"), "{s}");
    assert!(!s.contains("reused"), "{s}");
    app.update(Action::Down);
    let s = screen(&app);
    assert!(s.contains("reused (keep-alive): no handshake"), "{s}");
    let bar = s.lines().find(|l| l.contains('█')).unwrap();
    assert!(
        !bar.contains('H'),
        "no handshake part on a reused connection: {bar}"
    );
}

#[test]
fn handshake_is_measured_from_the_first_syn_with_its_retries() {
    let (mut app, src) = open("tcp-syn-retry.pcap", 120, 40);
    let c = app.conn().unwrap();
    let h = &c.summary.as_ref().unwrap().handshake;
    let retries = h.syns.len() - 1;
    assert!(retries >= 1);
    let ack = packets(c)
        .iter()
        .find(|p| Some(p.frame) == h.ack_frame)
        .unwrap();
    let ms = (ack.ts.0 - h.syns[0].ts.0) as f64 / 1e6;
    assert!(ms > 1000.0, "{ms}");
    let s = tab(&mut app, &src, Tab::Http);
    let want = format!(
        "H handshake {:.2} s from the first SYN ({retries} SYN retr",
        ms / 1000.0
    );
    assert!(s.contains(&want), "{want}\n{s}");
}

#[test]
fn a_reset_response_says_where_and_how_much() {
    let (mut app, src) = open("tcp-rst-abort.pcap", 120, 40);
    let c = app.conn().unwrap();
    let r = c.http[0].response.as_ref().unwrap();
    assert!(!r.complete);
    let rst = packets(c).iter().find(|p| p.flags.rst()).unwrap().frame;
    let of = r.body_bytes_announced.map_or(String::new(), |n| {
        format!(" of {}", tcpscope::ui::timing::thousands(n))
    });
    let want = format!(
        "aborted by RST (frame {rst}) after {}{of} bytes",
        tcpscope::ui::timing::thousands(r.body_bytes)
    );
    let s = tab(&mut app, &src, Tab::Http);
    assert!(s.contains(&want), "{want}\n{s}");
}
