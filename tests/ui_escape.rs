//! A capture whose HTTP head and body carry terminal escape sequences: the TUI must show
//! them escaped, never raw. The capture is built here with etherparse and written as a
//! classic pcap file by the tests' shared writer (common/pcap.rs).

mod common;

use common::ui::screen_raw as screen;
use tcpscope::capture::Source;
use tcpscope::ui::action::Action;
use tcpscope::ui::app::{App, Tab};
use tcpscope::ui::{load_wanted, loader};

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];

/// The capture being written: frames 100 µs apart.
struct Pcap {
    p: common::pcap::Pcap,
    t: i64,
}

impl Pcap {
    fn new() -> Pcap {
        Pcap {
            p: common::pcap::Pcap::new(),
            t: 0,
        }
    }

    /// `flags`: S(yn) A(ck) P(sh) F(in).
    fn seg(&mut self, from_client: bool, seq: u32, ack: u32, flags: &str, payload: &[u8]) {
        let (src, dst) = if from_client {
            ((C, 40000), (S, 80))
        } else {
            ((S, 80), (C, 40000))
        };
        let frame = common::pcap::tcp_frame(src, dst, seq, ack, flags, 65535, &[], payload);
        self.t += 100_000;
        self.p.record(1_700_000_000_000_000_000 + self.t, &frame);
    }
}

fn evil_capture() -> std::path::PathBuf {
    // httparse refuses control bytes in the request line, so the URI carries none; the
    // header value and the body do.
    let req = b"GET /wipe HTTP/1.1\r\nHost: x\r\nX-Evil: \x1b]0;pwned\x07title\r\n\r\n";
    let body = b"hello \x1b[31mRED\x1b[0m \x9b31m c1 \x7f del\n";
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut resp = head.into_bytes();
    resp.extend_from_slice(body);
    let (ci, si) = (1000u32, 5000u32);
    let mut p = Pcap::new();
    p.seg(true, ci, 0, "S", b"");
    p.seg(false, si, ci + 1, "SA", b"");
    p.seg(true, ci + 1, si + 1, "A", b"");
    p.seg(true, ci + 1, si + 1, "PA", req);
    let c_end = ci + 1 + req.len() as u32;
    p.seg(false, si + 1, c_end, "PA", &resp);
    let s_end = si + 1 + resp.len() as u32;
    p.seg(true, c_end, s_end, "FA", b"");
    p.seg(false, s_end, c_end + 1, "FA", b"");
    p.seg(true, c_end + 1, s_end + 1, "A", b"");
    p.p.write("ui-escape.pcap")
}

fn no_raw_controls(s: &str) {
    for c in s.chars() {
        let u = c as u32;
        assert!(
            c == '\n' || !(u < 0x20 || u == 0x7f || (0x80..=0x9f).contains(&u)),
            "raw control U+{u:04X} reached the screen:\n{s}"
        );
    }
}

#[test]
fn escape_sequences_in_http_are_shown_escaped() {
    let path = evil_capture();
    let src = Source::File(path.clone());
    let data = loader::load(&src, |_| {}).unwrap();
    assert_eq!(data.len(), 1);
    let c = data.conn(0).unwrap();
    assert_eq!(c.http.len(), 1, "{:?}", c.http);
    let mut app = App::new(&path.display().to_string());
    app.update(Action::Resize(120, 40));
    app.set_loaded(data);

    // The table (its filter haystack holds the URI).
    no_raw_controls(&screen(&app));
    app.update(Action::Open);
    for t in Tab::ALL {
        app.update(Action::SelectTab(t));
        load_wanted(&mut app, &src);
        let s = screen(&app);
        no_raw_controls(&s);
        match t {
            Tab::Http => {
                assert!(s.contains("GET /wipe HTTP/1.1"), "{s}");
                assert!(s.contains("X-Evil: ^[]0;pwned^Gtitle"), "{s}");
                assert!(s.contains("hello ^[[31mRED^[[0m"), "{s}");
                assert!(s.contains("\\x9B31m c1 ^? del"), "{s}");
            }
            Tab::Stream => {
                assert!(s.contains("X-Evil: ^[]0;pwned^Gtitle"), "{s}");
                assert!(s.contains("hello ^[[31mRED^[[0m"), "{s}");
            }
            _ => {}
        }
    }
    let _ = std::fs::remove_file(path);
}
