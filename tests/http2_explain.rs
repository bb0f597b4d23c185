//! `tcpscope explain` narrates HTTP/2 (issue 16): the preface, SETTINGS and their ACKs,
//! how HPACK sent each field, DATA interleaved across streams, flow control, GOAWAY;
//! checked on captures/h2-nghttp-multi.pcap with the numbers tshark reads from it
//! (`tshark -d tcp.port==8080,http2 -Y http2`: SETTINGS in frames 4 and 6, the client's
//! two WINDOW_UPDATEs of +32768 and +32767 in frame 18, GOAWAY in frame 22), and on
//! captures built here for RST_STREAM, PING, never-indexed fields and push.

mod common;

use common::pcapgen::{Cap, run};

/// The sentences printed under `Frame N` (up to the next frame or the summary).
fn block(text: &str, frame: u64) -> String {
    let head = format!("Frame {frame}  ");
    let start = text
        .lines()
        .position(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("no frame {frame}"));
    text.lines()
        .skip(start + 1)
        .take_while(|l| l.starts_with("    "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn summary(text: &str) -> String {
    text.split("\nSummary\n").nth(1).unwrap_or("").to_string()
}

fn explain(path: &std::path::Path) -> String {
    String::from_utf8(run(&["explain", path.to_str().unwrap()])).unwrap()
}

#[test]
fn nghttp_capture_is_narrated_frame_by_frame() {
    let t = explain(&common::bundled("h2-nghttp-multi.pcap"));
    let f4 = block(&t, 4);
    assert!(
        f4.contains("HTTP/2 SETTINGS from the server (stream 0, 6 bytes): SETTINGS_MAX_CONCURRENT_STREAMS = 100 (at most 100 streams open at once)."),
        "{f4}"
    );
    let f6 = block(&t, 6);
    assert!(
        f6.contains("HTTP/2 connection preface from the client (24 bytes"),
        "{f6}"
    );
    assert!(
        f6.contains("HTTP/2 SETTINGS from the client (stream 0, 12 bytes): SETTINGS_MAX_CONCURRENT_STREAMS = 100 (at most 100 streams open at once), SETTINGS_INITIAL_WINDOW_SIZE = 65535"),
        "{f6}"
    );
    assert!(f6.contains(
        "HTTP/2 SETTINGS ACK from the client: it has applied the server's SETTINGS of frame 4"
    ));
    assert!(f6.contains("HTTP/2 HEADERS from the client on stream 13 (END_STREAM, END_HEADERS, PRIORITY): GET /a.txt. Its header block is 39 bytes of HPACK for 7 fields."), "{f6}");
    // Stream 13's block adds user-agent to the table (tshark: "Literal Header Field with
    // Incremental Indexing - Indexed Name"); stream 15's sends it as index 62.
    assert!(f6.contains("HPACK: `user-agent: nghttp2/1.52.0` was sent as a literal with incremental indexing (name from index 58, value Huffman-coded)"), "{f6}");
    assert!(f6.contains("HPACK: `user-agent: nghttp2/1.52.0` was sent as index 62: the name and value were sent earlier on this connection"), "{f6}");
    assert!(f6.contains("HPACK: `:authority: 127.0.0.1:8080` was sent as index 64"));
    assert!(f6.contains(
        "HPACK: `:method: GET` was sent as index 2: the whole field is in HPACK's static table"
    ));
    assert!(f6.contains("HTTP/2 HEADERS from the client on stream 15 (END_STREAM, END_HEADERS, PRIORITY): GET /b.txt. Its header block is 13 bytes of HPACK for 7 fields."));
    assert!(
        !t.contains("HTTP pipelining"),
        "HTTP/2 streams are not pipelined"
    );
    let f8 = block(&t, 8);
    assert!(f8.contains(
        "HTTP/2 SETTINGS ACK from the server: it has applied the client's SETTINGS of frame 6"
    ));
    assert!(f8.contains("HTTP/2 HEADERS from the server on stream 13 (END_HEADERS): 200. Its header block is 94 bytes of HPACK for 7 fields."), "{f8}");
    // A frame is told in the packet holding its header's first byte (tshark lists it in
    // the packet that completes it): stream 15's first DATA header is in frame 13.
    assert!(block(&t, 13).contains("HTTP/2 DATA from the server: stream 15, 16384 bytes."));
    assert!(
        block(&t, 13)
            .contains("Streams 13 and 15 take turns: the server interleaves their DATA frames")
    );
    // 65,535 - 3 x 16,384 - 18 - 16,365 = 0.
    let f16 = block(&t, 16);
    assert!(f16.contains("HTTP/2 DATA from the server: stream 19, 18 bytes (END_STREAM: its body ends); stream 13, 16365 bytes."), "{f16}");
    assert!(f16.contains("Flow control: after this DATA the server's connection window is 0 bytes: it may send no more DATA on the connection until the client sends a WINDOW_UPDATE."));
    let f18 = block(&t, 18);
    assert!(f18.contains("HTTP/2 WINDOW_UPDATE from the client for the connection (stream 0): +32768 bytes; the server may now send 32768 bytes on the connection"), "{f18}");
    assert!(f18.contains("+32767 bytes; the server may now send 65535 bytes on the connection"));
    assert!(block(&t, 22).contains("HTTP/2 GOAWAY from the client (NO_ERROR), last stream id 0"));
    let s = summary(&t);
    assert!(s.contains("the client sent 14 frames (1 GOAWAY, 4 HEADERS, 5 PRIORITY, 2 SETTINGS, 2 WINDOW_UPDATE), the server 16 frames (10 DATA, 4 HEADERS, 2 SETTINGS); 4 streams."), "{s}");
    // Server DATA by stream: 13 15 17 19* 13 15 17 13* 15* 17* (* END_STREAM): six
    // switches away from a stream still sending.
    assert!(
        s.contains("DATA switched 6 times between streams still sending"),
        "{s}"
    );
    assert!(s.contains("a sender's window reached zero once"), "{s}");
}

fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    v.extend([ty, flags]);
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// Client then server bytes of one h2c connection, one segment per chunk.
fn capture(name: &str, chunks: &[(bool, Vec<u8>)]) -> std::path::PathBuf {
    let mut c = Cap::new();
    c.server_port = 8080;
    let (mut cs, mut ss) = (1000u32, 5000u32);
    c.seg(0, true, "S", cs - 1, 0, &[]);
    c.seg(10, false, "SA", ss - 1, cs, &[]);
    c.seg(20, true, "A", cs, ss, &[]);
    let mut t = 100;
    for (from_client, b) in chunks {
        let (seq, ack) = if *from_client { (cs, ss) } else { (ss, cs) };
        c.seg(t, *from_client, "PA", seq, ack, b);
        if *from_client {
            cs += b.len() as u32;
        } else {
            ss += b.len() as u32;
        }
        t += 1000;
    }
    c.write(name)
}

/// Frame numbers: 1-3 the handshake, then one per chunk from 4.
#[test]
fn reset_ping_push_and_never_indexed_fields_are_told() {
    let mut cli = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    cli.extend(frame(4, 0, 0, &[0, 4, 0, 0, 0, 100]));
    // GET /, a size update to 0 first, then a never-indexed cookie (new name).
    let mut b = vec![0x20, 0x82, 0x86, 0x84, 0x10, 6];
    b.extend(b"cookie");
    b.push(6);
    b.extend(b"secret");
    cli.extend(frame(1, 0x5, 1, &b));
    let mut srv = frame(4, 0, 0, &[]);
    srv.extend(frame(4, 1, 0, &[]));
    let mut promise = vec![0, 0, 0, 2, 0x82, 0x86, 0x04, 4];
    promise.extend(b"/p.c");
    srv.extend(frame(5, 0x4, 1, &promise));
    srv.extend(frame(1, 0x4, 1, &[0x88]));
    // 100 bytes of DATA use up stream 1's window of 100 (the client's INITIAL_WINDOW_SIZE).
    srv.extend(frame(0, 0, 1, &[7u8; 100]));
    let chunks = vec![
        (true, cli),
        (false, srv),
        (true, frame(6, 0, 0, b"abcdefgh")),
        (false, frame(6, 1, 0, b"abcdefgh")),
        (true, frame(3, 0, 2, &[0, 0, 0, 8])),
        (true, frame(8, 0, 1, &[0, 0, 0, 50])),
        (false, frame(7, 0, 0, &[0, 0, 0, 1, 0, 0, 0, 0])),
    ];
    let t = explain(&capture("h2x-told", &chunks));
    let f4 = block(&t, 4);
    assert!(
        f4.contains("HPACK: the block opens with a dynamic table size update to 0 bytes."),
        "{f4}"
    );
    assert!(
        f4.contains(
            "HPACK: `cookie: secret` was sent as a never-indexed literal (new name): no table entry"
        ),
        "{f4}"
    );
    assert!(f4.contains("SETTINGS_INITIAL_WINDOW_SIZE = 100 (each stream may receive 100 bytes before a WINDOW_UPDATE)"));
    let f5 = block(&t, 5);
    assert!(f5.contains("HTTP/2 PUSH_PROMISE from the server on stream 1 (END_HEADERS): it promises stream 2 for GET /p.c"), "{f5}");
    assert!(
        f5.contains("HTTP/2 SETTINGS from the server (stream 0), empty: it keeps every default")
    );
    assert!(f5.contains("Flow control: after this DATA the server's window on stream 1 is 0 bytes: it may send no more DATA on stream 1 until the client sends a WINDOW_UPDATE."), "{f5}");
    assert!(block(&t, 6).contains(
        "HTTP/2 PING from the client: 8 opaque bytes the server must echo in a PING ACK"
    ));
    assert!(block(&t, 7).contains("HTTP/2 PING ACK from the server: it echoes the client's PING of frame 6; the round trip took 1 ms"), "{}", block(&t, 7));
    assert!(
        block(&t, 8).contains(
            "HTTP/2 RST_STREAM from the client on stream 2 (CANCEL): that stream ends here"
        )
    );
    assert!(block(&t, 9).contains("HTTP/2 WINDOW_UPDATE from the client for stream 1: +50 bytes; the server may now send 50 bytes on stream 1"));
    assert!(block(&t, 10).contains("HTTP/2 GOAWAY from the server (NO_ERROR), last stream id 1: the client's streams up to 1 may still finish, none above 1 will be processed"));
}
