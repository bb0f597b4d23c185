//! Command-line interface: clap definitions and their validation. `main` stays thin.

use crate::report::Format;
use clap::{Parser, Subcommand};

pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

const AFTER_HELP: &str = "\
Exit status:
  0  success (also when the output pipe is closed early, e.g. `| head`)
  1  error: the capture could not be read (missing, unreadable, not a capture)
  2  usage error: unknown command or option

Examples:
  tcpscope report captures/http-get.pcap
  tcpscope report --format json captures/http-keepalive.pcap | jq '.connections[0]'
  tcpdump -i lo -w - | tcpscope report -";

const LIVE_HELP: &str = "\
Examples:
  sudo tcpscope live -i lo -f 'tcp port 8080'         watch a local server in the UI
  sudo tcpscope live -i eth0 -w session.pcap           ... and save every packet
  sudo tcpscope live -f 'tcp port 80' --format ndjson --duration 60 > conns.ndjson
                                                       one JSON line per connection as it closes
  tcpscope interfaces                                  what can be captured on

Capturing needs root, or once: sudo setcap cap_net_raw,cap_net_admin=eip $(command -v tcpscope)
In the UI: f freezes the display (capture goes on; the waiting count shows), q or Ctrl-C
stops and closes the -w file whole. Kernel and interface drops show in the status bar and
in the summary printed on exit. Details: docs/live.md";

/// tcpscope: TCP and HTTP at the packet level.
///
/// Reads pcap and pcapng captures, reconstructs every TCP connection and reports what
/// happened in it.
#[derive(Parser, Debug)]
#[command(name = "tcpscope", version, after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Capture file to open in the terminal UI (short for `tcpscope open FILE`); `-` reads
    /// a capture piped in, as it arrives.
    pub file: Option<String>,
    /// Presenter mode for the terminal UI: larger spacing, fewer columns.
    #[arg(long)]
    pub present: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print every TCP connection of a capture, as a table, JSON or NDJSON.
    #[command(after_help = AFTER_HELP)]
    Report(ReportArgs),
    /// Write every decoded HTTP body to a folder, with an index (like Export Objects).
    #[command(name = "export-http")]
    ExportHttp(ExportArgs),
    /// Open a capture in the terminal UI (also: `tcpscope FILE`).
    Open(OpenArgs),
    /// Tell a connection's story in plain language, packet by packet.
    Explain(crate::classroom::ExplainArgs),
    /// Draw a connection's ladder diagram: Mermaid, ASCII or SVG.
    Diagram(crate::classroom::DiagramArgs),
    /// Predict each next packet of a connection (flags, ACK, state): in the terminal UI,
    /// or line by line with --text or when not on a terminal.
    Quiz(crate::classroom::QuizArgs),
    /// Capture live from an interface: the terminal UI, or a report with --format.
    #[command(after_help = LIVE_HELP)]
    Live(LiveArgs),
    /// Stage a TCP/HTTP scenario on 127.0.0.1 and capture it live (`--list` lists them).
    Demo(crate::demo::DemoArgs),
    /// List the interfaces libpcap can capture on, with addresses, flags and link types.
    Interfaces,
}

#[derive(clap::Args, Debug)]
pub struct LiveArgs {
    /// Interface to capture on (default: libpcap's default device; `tcpscope interfaces`).
    #[arg(short, long)]
    pub interface: Option<String>,
    /// BPF capture filter, e.g. `tcp port 80` (see `man pcap-filter`).
    #[arg(short, long)]
    pub filter: Option<String>,
    /// Save every captured packet to this pcap file as well.
    #[arg(short, long, value_name = "FILE.pcap")]
    pub write: Option<std::path::PathBuf>,
    /// Bytes captured of each packet.
    #[arg(long, default_value_t = 262_144, value_parser = clap::value_parser!(i32).range(64..))]
    pub snaplen: i32,
    /// Do not put the interface into promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Headless: print a report in this format instead of opening the terminal UI
    /// (ndjson: each connection as soon as it closes).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Stop after this many packets.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Kernel capture buffer in MiB (block delivery). The TUI's immediate-mode start uses at
    /// least 128 MiB: on Linux its ring has one slot per packet, each as large as the
    /// biggest packet the interface can deliver (256 KiB with offloads).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=2047))]
    pub buffer_mib: u32,
    /// Most connections tracked at once (as for `report`).
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
    /// Packets kept per connection for the ladder and packet list (beyond: counted).
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_packets_per_conn: u64,
    /// Skip HTTP parsing.
    #[arg(long)]
    pub no_http: bool,
    /// TUI: take packets by the kernel block (at most 50 ms late) from the start, instead of
    /// one by one (immediate mode) until the first sign of load. Skips the 128 MiB
    /// immediate-mode ring. Reports always take blocks.
    #[arg(long)]
    pub buffered: bool,
    /// Presenter mode for the terminal UI.
    #[arg(long)]
    pub present: bool,
}

#[derive(clap::Args, Debug)]
pub struct OpenArgs {
    /// Capture file (pcap or pcapng); `-` reads a capture piped in, as it arrives
    /// (`tcpdump -w - | tcpscope open -`).
    pub file: String,
    /// Presenter mode: larger spacing, fewer columns (toggle with `P`).
    #[arg(long)]
    pub present: bool,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    pub file: String,
    /// Folder to write into (created if missing). Existing files are never overwritten:
    /// a numbered name is used instead.
    #[arg(short = 'o', long = "out")]
    pub out: String,
    /// Largest body kept for export, in bytes; larger ones are listed in the index with
    /// their size and SHA-256 but not written.
    #[arg(long, default_value_t = 64 << 20)]
    pub max_body: usize,
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    pub file: String,
    /// Output format: a readable table, one JSON document, or one JSON line per connection
    /// followed by a summary line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Add every packet of each connection: direction, flags, relative seq/ack, length,
    /// window and its analysis flags with the reason each fired.
    #[arg(long)]
    pub packets: bool,
    /// Analysis threads (connections are sharded over them); 0 = one per core, up to 4.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Skip HTTP parsing (TCP analysis only; faster on large files).
    #[arg(long)]
    pub no_http: bool,
    /// Most connections tracked at once; beyond it the longest-idle are finished early
    /// (counted as `evicted_connections`).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
}

pub const NO_ARGS_USAGE: &str = "\
tcpscope: TCP and HTTP at the packet level

Usage:
  tcpscope report FILE [--format text|json|ndjson]   report every TCP connection
  tcpscope FILE   (or: tcpscope open FILE)           explore it in the terminal UI
  tcpscope live [-i IFACE] [-f BPF] [-w FILE]        capture live (root or cap_net_raw)
  tcpscope interfaces                                list the interfaces
  tcpscope demo [--scenario NAME]                    stage and capture a scenario on 127.0.0.1
  tcpscope explain FILE [--conn ID]                  a connection told in plain language
  tcpscope diagram FILE --conn ID --format mermaid   its ladder diagram (mermaid|ascii|svg)
  tcpscope quiz FILE                                 predict each next packet, scored
  tcpscope export-http FILE -o DIR                   write every HTTP body to DIR

Try it on a bundled capture (captures/README.md lists them all):
  tcpscope captures/http-get.pcap
  tcpscope report captures/tcp-lossy-client-side.pcap
No capture at hand? `tcpscope demo --list` shows what it can stage for you.

Run `tcpscope --help` for every command and option.";
