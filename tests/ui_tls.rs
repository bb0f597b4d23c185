//! The TUI on TLS captures (captures/tls/, recorded with nginx + curl): the ladder labels
//! the handshake records, and the HTTP and Stream tabs say in words (NO_COLOR: no colour
//! here) that what they show is plaintext decrypted from TLS; without keys they say the
//! bytes are encrypted. The run's key log holds the keys of three captures, not of
//! `tls13-nokeys`.

mod common;

use common::ui::{cap, screen};
use std::sync::Once;
use tcpscope::capture::Source;
use tcpscope::tls::{KeyLog, KeySource};
use tcpscope::ui::action::Action;
use tcpscope::ui::app::{App, Tab};
use tcpscope::ui::{load_wanted, loader};

fn keys() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut k = KeyLog::new();
        for name in ["tls13-h2-parallel", "tls13-aes128", "tls12-h2"] {
            let text = std::fs::read(cap(&format!("tls/{name}.keys"))).unwrap();
            k.add_text(&text, KeySource::Keylog);
        }
        tcpscope::tls::keylog::set_run_keys(k);
    });
}

/// The capture's only connection open on tab `t`, at `w`×`h`, no colour.
fn open_tab(name: &str, t: Tab, w: u16, h: u16) -> (App, String) {
    keys();
    let src = Source::File(cap(&format!("tls/{name}")));
    let data = loader::load(&src, |_| {}).expect("load");
    let mut app = App::new(&format!("captures/tls/{name}"));
    app.color = false;
    app.update(Action::Resize(w, h));
    app.set_loaded(data);
    app.update(Action::Open);
    app.update(Action::SelectTab(t));
    load_wanted(&mut app, &src);
    let s = screen(&app);
    (app, s)
}

#[test]
fn http_tab_says_decrypted_and_shows_the_h2_streams_with_bodies() {
    let (_, s) = open_tab("tls13-h2-parallel.pcap", Tab::Http, 160, 45);
    assert!(
        s.contains("4 exchange(s)  [decrypted TLS 1.3 (key log)]"),
        "{s}"
    );
    for want in [
        "GET /small.txt → 200",
        "GET /page.html → 200",
        "GET /mid.bin → 200",
        "GET /missing.txt → 404",
    ] {
        assert!(s.contains(want), "{want}: {s}");
    }
    // The first stream's body, decrypted again from the file: small.txt's first bytes.
    let small = std::fs::read_to_string(cap("tls/served-sha256.txt")).unwrap();
    assert!(small.contains("small.txt"));
    assert!(s.contains("body: 1500 bytes"), "{s}");
    insta::assert_snapshot!("tls_h2_http_160x45", s);
    let (_, s) = open_tab("tls13-h2-parallel.pcap", Tab::Http, 80, 24);
    assert!(s.contains("[decrypted TLS 1.3 (key log)]"), "{s}");
    insta::assert_snapshot!("tls_h2_http_80x24", s);
}

#[test]
fn stream_tab_shows_the_plaintext_marked_decrypted() {
    let (_, s) = open_tab("tls13-aes128.pcap", Tab::Stream, 80, 24);
    assert!(s.contains("[decrypted TLS 1.3 (key log)"), "{s}");
    assert!(s.contains("C: GET /small.txt HTTP/1.1"), "{s}");
    assert!(s.contains("S: HTTP/1.1 200 OK"), "{s}");
    insta::assert_snapshot!("tls13_stream_80x24", s);
    let (_, s) = open_tab("tls13-h2-parallel.pcap", Tab::Stream, 160, 45);
    assert!(s.contains("[decrypted TLS 1.3 (key log)"), "{s}");
    assert!(s.contains("C: PRI * HTTP/2.0"), "{s}");
    // 4 HEADERS + preface + SETTINGS... from the client: 975 B of TLS, fewer plaintext.
    assert!(s.contains("client → server "), "{s}");
    assert!(
        !s.contains("client → server 975 B"),
        "plaintext, not records: {s}"
    );
}

#[test]
fn without_keys_the_tabs_say_encrypted() {
    let (_, s) = open_tab("tls13-nokeys.pcap", Tab::Stream, 80, 24);
    assert!(s.contains("[TLS records, encrypted"), "{s}");
    assert!(!s.contains("decrypted"), "{s}");
    let (_, s) = open_tab("tls13-nokeys.pcap", Tab::Http, 80, 24);
    assert!(s.contains("TLS, not decrypted"), "{s}");
    assert!(s.contains("--keylog"), "{s}");
}

#[test]
fn ladder_labels_the_tls_handshake() {
    let (_, s) = open_tab("tls13-h2-parallel.pcap", Tab::Ladder, 160, 45);
    assert!(
        s.contains("ClientHello (SNI tls.test, ALPN h2,http/1.1)"),
        "{s}"
    );
    // Too long for the arrow whole: the encrypted messages shorten to the first one.
    assert!(
        s.contains("ServerHello TLS 1.3 AES_256_GCM, ChangeCipherSpec, {EncryptedExtensions, …}"),
        "{s}"
    );
    assert!(s.contains("ChangeCipherSpec, {Finished}"), "{s}");
    insta::assert_snapshot!("tls_h2_ladder_160x45", s);
    // TLS 1.2: the certificate travels in clear, ChangeCipherSpec then {Finished}.
    let (_, s) = open_tab("tls12-h2.pcap", Tab::Ladder, 160, 45);
    assert!(
        s.contains("ServerHello TLS 1.2 CHACHA20_POLY1305, …"),
        "{s}"
    );
    assert!(
        s.contains("ClientKeyExchange, ChangeCipherSpec, {Finished}"),
        "{s}"
    );
    let (_, s) = open_tab("tls13-h2-parallel.pcap", Tab::Ladder, 80, 24);
    // Narrow arrows: the short forms where they fit whole, nothing cut.
    assert!(s.contains("PA seq=1 ClientHello…"), "{s}");
    assert!(s.contains("PA seq=1370 {NewSessionTicket}…"), "{s}");
    insta::assert_snapshot!("tls_h2_ladder_80x24", s);
}

#[test]
fn packets_tab_shows_the_tls_record_tree() {
    keys();
    let src = Source::File(cap("tls/tls12-h2.pcap"));
    let data = loader::load(&src, |_| {}).expect("load");
    let mut app = App::new("captures/tls/tls12-h2.pcap");
    app.color = false;
    app.update(Action::Resize(160, 45));
    app.set_loaded(data);
    app.update(Action::Open);
    for _ in 0..5 {
        app.update(Action::Down); // frame 6: ServerHello, Certificate, ... in clear
    }
    app.update(Action::Open);
    assert_eq!(app.conn_view.tab, Tab::Packets);
    load_wanted(&mut app, &src);
    let tree: Vec<String> = app.tree().iter().map(|f| f.text.clone()).collect();
    let at = tree
        .iter()
        .position(|t| t == "Transport Layer Security")
        .unwrap_or_else(|| panic!("{tree:?}"));
    // tshark -r tls12-h2.pcap -Y frame.number==6 -T fields -e tls.record.content_type
    // -e tls.record.length -e tls.handshake.type: "22,22,22,22  106,810,300,4  2,11,12,14".
    let t = &tree[at..];
    let recs: Vec<&String> = t.iter().filter(|x| x.starts_with("TLS record: ")).collect();
    assert_eq!(
        recs,
        [
            "TLS record: Handshake, TLS 1.2, 106 bytes",
            "TLS record: Handshake, TLS 1.2, 810 bytes",
            "TLS record: Handshake, TLS 1.2, 300 bytes",
            "TLS record: Handshake, TLS 1.2, 4 bytes",
        ]
    );
    let msgs: Vec<&String> = t.iter().filter(|x| x.starts_with("Handshake: ")).collect();
    assert_eq!(
        msgs,
        [
            "Handshake: ServerHello (2), 102 bytes",
            "Handshake: Certificate (11), 806 bytes",
            "Handshake: ServerKeyExchange (12), 296 bytes",
            "Handshake: ServerHelloDone (14), 0 bytes",
        ]
    );
    // `]` walks the fields down to the TLS lines, which the tree pane then shows.
    for _ in 0..tree.len() {
        if app.current_field() > at {
            break;
        }
        app.update(Action::FieldNext);
    }
    let s = screen(&app);
    assert!(
        s.contains("TLS record: Handshake, TLS 1.2, 106 bytes"),
        "{s}"
    );
}

#[test]
fn ladder_labels_application_data_with_size_and_what_it_carries() {
    // tshark -o tls.keylog_file:tls13-aes128.keys -Y tls -e tls.record.length: frame 9
    // one record of 98 B (GET), frame 15 one of 1757 B (200); 11 and 12 NewSessionTickets.
    let (_, s) = open_tab("tls13-aes128.pcap", Tab::Ladder, 160, 45);
    assert!(s.contains("Application Data 98 B → GET /small.txt"), "{s}");
    assert!(s.contains("Application Data 1,757 B → 200 OK"), "{s}");
    assert!(s.contains("{NewSessionTicket}"), "{s}");
    assert!(
        !s.contains("Application Data 74 B"),
        "tickets are not data: {s}"
    );
    assert!(s.contains("Alert close_notify"), "{s}");
    insta::assert_snapshot!("tls13_h1_ladder_160x45", s);
    let (_, s) = open_tab("tls13-aes128.pcap", Tab::Ladder, 80, 24);
    // Narrow: what the record carries stays, its size goes first.
    assert!(s.contains("GET /small.txt"), "{s}");
    insta::assert_snapshot!("tls13_h1_ladder_80x24", s);
    // Over TLS, HTTP/2 frames label the records that carry them.
    let (_, s) = open_tab("tls13-h2-parallel.pcap", Tab::Ladder, 160, 45);
    assert!(
        s.contains("Application Data 42 B → HEADERS s3 GET /page.html END_STREAM"),
        "{s}"
    );
    assert!(
        s.contains("Application Data 1,526 B → DATA s1 1 kB END_STREAM"),
        "{s}"
    );
    // Without keys: the records' sizes, nothing about their content.
    let (_, s) = open_tab("tls13-nokeys.pcap", Tab::Ladder, 160, 45);
    assert!(s.contains("Application Data "), "{s}");
    assert!(!s.contains("→ GET"), "{s}");
}

#[test]
fn lanes_show_the_decrypted_h2_streams() {
    let (_, s) = open_tab("tls13-h2-parallel.pcap", Tab::Lanes, 160, 45);
    assert!(s.contains("HTTP/2: 4 streams on one connection"), "{s}");
    for want in [
        "s1 GET /small.txt   200",
        "s3 GET /page.html   200",
        "s5 GET /mid.bin     200",
        "s7 GET /missing.txt 404",
    ] {
        assert!(s.contains(want), "{want}: {s}");
    }
    insta::assert_snapshot!("tls_h2_lanes_160x45", s);
    let (_, s) = open_tab("tls13-h2-parallel.pcap", Tab::Lanes, 80, 24);
    assert!(s.contains("s7 GET /missing.txt 404"), "{s}");
    insta::assert_snapshot!("tls_h2_lanes_80x24", s);
}
