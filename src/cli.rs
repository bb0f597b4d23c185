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

/// tcpscope: TCP and HTTP at the packet level.
///
/// Reads pcap and pcapng captures, reconstructs every TCP connection and reports what
/// happened in it.
#[derive(Parser, Debug)]
#[command(name = "tcpscope", version, after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Capture file to open in the terminal UI (short for `tcpscope open FILE`).
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
    /// Open a capture in the terminal UI (also: `tcpscope FILE`).
    Open(OpenArgs),
}

#[derive(clap::Args, Debug)]
pub struct OpenArgs {
    /// Capture file (pcap or pcapng).
    pub file: String,
    /// Presenter mode: larger spacing, fewer columns (toggle with `P`).
    #[arg(long)]
    pub present: bool,
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

Try it on a bundled capture:
  tcpscope report captures/http-get.pcap

Run `tcpscope --help` for every command and option.";
