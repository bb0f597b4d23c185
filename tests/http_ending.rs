//! How an HTTP exchange ends when it does not end well, as the JSON and the TUI say it:
//! a request the client stopped waiting for (`client_gave_up`), a client that only
//! half-closed and still got its answer, and a response body cut by the connection's end
//! ("body cut", never "(no body)").

mod common;

use common::pcapgen::Cap;
use tcpscope::capture::Source;
use tcpscope::ui::action::Action;
use tcpscope::ui::app::{App, Tab};
use tcpscope::ui::{load_wanted, loader};

const MS: i64 = 1000;
const GET_A: &[u8] = b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n";
const GET_B: &[u8] = b"GET /b HTTP/1.1\r\nHost: t\r\n\r\n";
const OK_A: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

/// Handshake at 0..2 ms: client ISN 100, server ISN 500.
fn opened() -> Cap {
    let mut c = Cap::new();
    c.seg(0, true, "S", 100, 0, b"");
    c.seg(MS, false, "SA", 500, 101, b"");
    c.seg(2 * MS, true, "A", 101, 501, b"");
    c
}

fn http(c: &Cap, name: &str) -> Vec<serde_json::Value> {
    let j = common::pcapgen::report(&c.write(name));
    j["connections"][0]["http"]
        .as_array()
        .expect("an http list")
        .clone()
}

/// GET (frame 4), the server's ACK (5), nothing more; the client's FIN 1.5 s after the
/// request (frame 6).
#[test]
fn an_unanswered_request_records_the_clients_fin_and_the_wait() {
    let mut c = opened();
    c.seg(3 * MS, true, "PA", 101, 501, GET_A);
    c.seg(4 * MS, false, "A", 501, 101 + GET_A.len() as u32, b"");
    let fin_seq = 101 + GET_A.len() as u32;
    c.seg(1503 * MS, true, "FA", fin_seq, 501, b"");
    c.seg(1504 * MS, false, "FA", 501, fin_seq + 1, b"");
    c.seg(1505 * MS, true, "A", fin_seq + 1, 502, b"");
    let x = http(&c, "gave-up");
    assert_eq!(x.len(), 1);
    assert!(x[0]["response"].is_null());
    assert_eq!(x[0]["client_gave_up"]["fin_frame"], 6);
    assert_eq!(x[0]["client_gave_up"]["waited_ms"], 1500.0);
    let explained = common::pcapgen::run(&["explain", c.write("gave-up-x").to_str().unwrap()]);
    let text = String::from_utf8(explained).unwrap();
    assert!(
        text.contains("no response: the client gave up after 1.5 s (its FIN, frame 6)"),
        "{text}"
    );
}

/// The client sends its request and its FIN at once (a half-close, as `nc -N` does); the
/// server answers afterwards. The client did not give up: the answer came.
#[test]
fn a_half_closed_client_that_gets_its_answer_did_not_give_up() {
    let mut c = opened();
    c.seg(3 * MS, true, "PA", 101, 501, GET_A);
    let fin_seq = 101 + GET_A.len() as u32;
    c.seg(4 * MS, true, "FA", fin_seq, 501, b"");
    c.seg(50 * MS, false, "PA", 501, fin_seq + 1, OK_A);
    let srv_fin = 501 + OK_A.len() as u32;
    c.seg(51 * MS, false, "FA", srv_fin, fin_seq + 1, b"");
    c.seg(52 * MS, true, "A", fin_seq + 1, srv_fin + 1, b"");
    let x = http(&c, "half-close");
    assert_eq!(x.len(), 1);
    assert_eq!(x[0]["response"]["status"], 200);
    assert!(x[0].get("client_gave_up").is_none(), "{:#}", x[0]);
}

/// Keep-alive: /a is answered, /b is not; the client closes 200 ms after /b. Only /b
/// was given up on.
#[test]
fn only_the_unanswered_request_of_a_keepalive_connection_is_given_up() {
    let mut c = opened();
    c.seg(3 * MS, true, "PA", 101, 501, GET_A);
    let after_a = 101 + GET_A.len() as u32;
    c.seg(10 * MS, false, "PA", 501, after_a, OK_A);
    let srv = 501 + OK_A.len() as u32;
    c.seg(20 * MS, true, "PA", after_a, srv, GET_B);
    let fin_seq = after_a + GET_B.len() as u32;
    c.seg(21 * MS, false, "A", srv, fin_seq, b"");
    c.seg(220 * MS, true, "FA", fin_seq, srv, b"");
    c.seg(221 * MS, false, "RA", srv, fin_seq + 1, b"");
    let x = http(&c, "keepalive-gave-up");
    assert_eq!(x.len(), 2);
    assert!(x[0].get("client_gave_up").is_none());
    assert_eq!(x[1]["request"]["uri"], "/b");
    assert_eq!(x[1]["client_gave_up"]["fin_frame"], 8);
    assert_eq!(x[1]["client_gave_up"]["waited_ms"], 200.0);
}

/// The response announces 1,000 bytes, 300 arrive, then the server resets. The TUI's
/// HTTP detail says the body was cut and how much arrived; with no body byte at all it
/// says so too, never "(no body)".
#[test]
fn a_cut_response_body_is_called_cut_in_the_http_detail() {
    for (sent, expect) in [
        (
            300usize,
            "(body cut: 300 of 1000 announced bytes arrived before the connection ended)",
        ),
        (
            0,
            "(body cut: 0 of 1000 announced bytes arrived before the connection ended)",
        ),
    ] {
        let mut c = opened();
        c.seg(3 * MS, true, "PA", 101, 501, GET_A);
        let after_a = 101 + GET_A.len() as u32;
        let mut resp = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".to_vec();
        resp.extend(std::iter::repeat_n(b'x', sent));
        c.seg(10 * MS, false, "PA", 501, after_a, &resp);
        c.seg(11 * MS, false, "RA", 501 + resp.len() as u32, after_a, b"");
        let path = c.write(&format!("cut-body-{sent}"));
        let src = Source::File(path);
        let data = loader::load(&src, |_| {}).expect("load");
        let mut app = App::new("cut.pcap");
        app.color = false;
        app.update(Action::Resize(160, 45));
        app.set_loaded(data);
        app.update(Action::Open);
        app.update(Action::SelectTab(Tab::Http));
        load_wanted(&mut app, &src);
        let lines = format!("{:?}", app.http_detail(160));
        assert!(lines.contains(expect), "{lines}");
        assert!(!lines.contains("(no body)"), "{lines}");
    }
}

/// `explain` names each chunk where its size line arrives. captures/demo-chunked.pcap:
/// tshark (`-Y http -T fields -e http.chunk_size`) reads chunks of 17, 21, 17 and 0
/// bytes; the server's segments are frames 8 (23 bytes: `11\r\n` + 17 + CRLF), 10 (27:
/// `15\r\n` + 21 + CRLF), 12 (23) and 14 (5: `0\r\n\r\n`).
#[test]
fn explain_narrates_each_chunk_at_its_frame() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/demo-chunked.pcap");
    let text =
        String::from_utf8(common::pcapgen::run(&["explain", path.to_str().unwrap()])).unwrap();
    let mut frame = 0u64;
    let mut seen = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Frame ") {
            frame = rest.split_whitespace().next().unwrap().parse().unwrap();
        } else if line.trim_start().starts_with("Chunked body") {
            seen.push((frame, line.trim().to_string()));
        }
    }
    let want = [
        (
            8,
            "Chunked body of response 1: chunk 1 has the size line `11` (hex) = 17 bytes of body, then CRLF.",
        ),
        (
            10,
            "Chunked body of response 1: chunk 2 has the size line `15` (hex) = 21 bytes of body, then CRLF.",
        ),
        (
            12,
            "Chunked body of response 1: chunk 3 has the size line `11` (hex) = 17 bytes of body, then CRLF.",
        ),
        (
            14,
            "Chunked body of response 1: the last-chunk (size line `0`) ends the body after 3 chunks; trailer fields, if any, then an empty line follow.",
        ),
    ];
    let want: Vec<(u64, String)> = want.iter().map(|(f, s)| (*f, s.to_string())).collect();
    assert_eq!(seen, want, "{text}");
}
