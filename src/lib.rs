//! tcpscope: TCP and HTTP at the packet level.
//!
//! The pipeline runs in one direction, each step a plain function call on owned or
//! borrowed data (docs/architecture.md draws it in full):
//!
//! ```text
//! capture   libpcap (live or file) -> RawPacket          the only module importing `pcap`
//! decode    link + IP + TCP headers -> Decoded           pure
//! flow      5-tuple -> connection id + direction         pure
//! tcp       per-connection engine: states, streams, flags   sans-IO
//! http      HTTP/1.x assembler over the byte streams     sans-IO
//! pipeline  the driver: packets in, Connection / CaptureStats out (with ftp, which labels
//!           ftp-data connections)
//! explain   plain-language sentences from what the engine found
//! report    text / JSON / NDJSON renderers, diagrams;  export: HTTP bodies to files
//! ```
//!
//! Around it: `headless` and `parallel` run the pipeline over one source (one thread, or
//! connections sharded over several); `ui` is the terminal UI (`ratatui`, `crossterm`);
//! `demo` stages scenarios on 127.0.0.1; `classroom` is what `explain`, `diagram` and
//! `quiz` share; `ts` holds timestamps (and `Ts::now`, for the edge only); `escape`
//! shows captured bytes safely.
//!
//! Which layer may import which: a module imports only from its own layer or lower ones.
//! tests/architecture.rs fails on any import cycle (two inside the core, `pipeline` with
//! `explain` and `ftp`, are listed there until they are untangled) and on a core module
//! reaching the edge.
//!
//! 1. `ts`, `escape`: leaves.
//! 2. `capture`.
//! 3. core: `decode`, `flow`, `tcp`, `http`, `pipeline`, `ftp`, `explain`. Never `pcap`,
//!    `ratatui` or `crossterm`, never the clock: time is the packet's timestamp.
//! 4. `headless`, `parallel`; then `report`, `export`, `classroom`.
//! 5. `ui`; `demo`.
//! 6. `cli`: clap's structs and the one `Config` built from them.
//! 7. `cmd`: one handler per command, taking its part of `Config`. Only `main` imports it;
//!    `main` parses, builds the `Config`, runs it and returns the exit status.

pub mod capture;
pub mod classroom;
pub mod cli;
pub mod cmd;
pub mod decode;
pub mod demo;
pub mod escape;
pub mod explain;
pub mod export;
pub mod flow;
pub mod ftp;
pub mod headless;
pub mod http;
pub mod http2;
pub mod parallel;
pub mod pipeline;
pub mod report;
pub mod stream;
pub mod tcp;
pub mod tls;
pub mod ts;
pub mod ui;
