//! `tcpscope demo`: a capture that stages itself, for a class with no capture at hand.
//!
//! A tiny HTTP server (on a thread) and a client, both hand-written on plain sockets
//! (`demo::wire`), play one scenario (`demo::scenarios`) over 127.0.0.1 while
//! `capture::live` records loopback with a filter naming both ports of the scenario's
//! connection (server and client sockets are bound before the capture starts), so other
//! programs' loopback traffic stays out. The terminal UI opens on the live session,
//! stepping from the first packet; with `--format` the report of `tcpscope report` is
//! printed once the scenario is over. Without capture permission
//! the bundled recording of the same scenario (`captures/demo-NAME.pcap`, built into the
//! binary) is replayed instead, so a class never meets a dead end.
//!
//! This module is the staging: the scenarios, their sockets and the bundled recordings.
//! The command (capturing, the fallback to a replay, the UI or the report) is
//! `cmd::demo`. It is an edge module: it reads the clock and owns sockets; the analysis
//! it feeds is the ordinary one.

mod catalog;
mod h2;
mod https;
pub mod narrate;
pub mod netns;
mod scenarios;
mod sockets;
mod wire;

pub use scenarios::{Scenario, Stage};

/// The bundled recording of a scenario (`captures/record-demo.sh` makes them).
pub fn bundled(s: Scenario) -> &'static [u8] {
    match s {
        Scenario::Get => include_bytes!("../captures/demo-get.pcap"),
        Scenario::KeepAlive => include_bytes!("../captures/demo-keep-alive.pcap"),
        Scenario::Pipelined => include_bytes!("../captures/demo-pipelined.pcap"),
        Scenario::Chunked => include_bytes!("../captures/demo-chunked.pcap"),
        Scenario::PostContinue => include_bytes!("../captures/demo-post-continue.pcap"),
        Scenario::Refused => include_bytes!("../captures/demo-refused.pcap"),
        Scenario::Reset => include_bytes!("../captures/demo-reset.pcap"),
        Scenario::HalfClose => include_bytes!("../captures/demo-half-close.pcap"),
        Scenario::SlowReader => include_bytes!("../captures/demo-slow-reader.pcap"),
        Scenario::Timeout => include_bytes!("../captures/demo-timeout.pcap"),
        // Recorded by captures/record.sh over the same kind of lossy link.
        Scenario::Loss => include_bytes!("../captures/http-lossy-download.pcap"),
        // A pcapng: the client's secrets ride along in a Decryption Secrets Block.
        Scenario::Https => include_bytes!("../captures/demo-https.pcapng"),
        Scenario::H2 => include_bytes!("../captures/demo-h2.pcapng"),
    }
}
