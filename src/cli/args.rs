//! The command line as clap reads it: one struct per command, each option with its help.
//! Nothing here is checked beyond what clap checks; `cli::config` turns these into what
//! the commands run on.

use crate::demo::Scenario;
use crate::explain::narrative::Style;
use crate::report::Format;
use crate::report::diagram::{DiagramFormat, FrameRange, Graph, TimeRange};
use std::path::PathBuf;

/// How a file command reads its capture: `-r`, `-f`, `-c` as tcpdump has them.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// Capture file to read (the same as giving it as the argument, as in `tcpdump -r`).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<String>,
    /// Read filter in BPF syntax, e.g. `tcp port 80` (see `man pcap-filter`), compiled by
    /// libpcap for the file's link type as `tcpdump -r FILE 'tcp port 80'` does. Frame
    /// numbers stay those of the file (as in Wireshark), so they match an unfiltered run.
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub filter: Option<String>,
    /// Stop after N packets; with --filter, N packets that pass it (as tcpdump -c counts).
    #[arg(short = 'c', long = "count", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

impl InputArgs {
    /// The capture file: `-r FILE`, else the positional argument.
    pub fn pick(&self, positional: Option<&String>) -> Option<String> {
        self.read.clone().or_else(|| positional.cloned())
    }
}

#[derive(clap::Args, Debug)]
pub struct OpenArgs {
    /// Capture file (pcap or pcapng, plain or compressed: gzip, zstd, xz); `-` reads a capture piped in, as it arrives
    /// (`tcpdump -w - | tcpscope open -`).
    #[arg(required_unless_present = "read", conflicts_with = "read")]
    pub file: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Presenter mode: larger spacing, fewer columns (toggle with `P`).
    #[arg(long)]
    pub present: bool,
    /// NSS key log (`SSLKEYLOGFILE`) to decrypt TLS with; default: `$SSLKEYLOGFILE` if set.
    /// Secrets in a pcapng's Decryption Secrets Blocks are used as well.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Capture file (pcap or pcapng, plain or compressed: gzip, zstd, xz); `-` reads standard input.
    #[arg(required_unless_present = "read", conflicts_with = "read")]
    pub file: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Folder to write into (created if missing). Existing files are never overwritten:
    /// a numbered name is used instead.
    #[arg(short = 'o', long = "out")]
    pub out: String,
    /// Largest body kept for export, in bytes; larger ones are listed in the index with
    /// their size and SHA-256 but not written.
    #[arg(long, default_value_t = 64 << 20)]
    pub max_body: usize,
    /// NSS key log (`SSLKEYLOGFILE`) to decrypt TLS with; default: `$SSLKEYLOGFILE` if set.
    /// Secrets in a pcapng's Decryption Secrets Blocks are used as well.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    #[command(flatten)]
    pub select: super::select::SelectArgs,
    #[command(flatten)]
    pub diag: Diagnostics,
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Capture files (pcap or pcapng, plain or compressed with gzip, zstd or xz); `-`
    /// reads standard input. Several files are reported one after another, each
    /// connection with its `file` (ids go on from file to file), unless --merge.
    #[arg(required_unless_present = "read", conflicts_with = "read")]
    pub files: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Merge several files by timestamp into one capture, as `mergecap` does (frames
    /// numbered in merged order): for captures of the same traffic taken in turn or at
    /// several points.
    #[arg(long)]
    pub merge: bool,
    /// Output format: a readable table, one JSON document, or one JSON line per connection
    /// followed by a summary line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Add every packet of each connection: direction, flags, relative seq/ack, length,
    /// window and its analysis flags (in JSON with the reason each fired; in text one
    /// line per packet under its connection, as `tshark -r` prints them).
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
    /// NSS key log (`SSLKEYLOGFILE`) to decrypt TLS with; default: `$SSLKEYLOGFILE` if set.
    /// Secrets in a pcapng's Decryption Secrets Blocks are used as well.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    #[command(flatten)]
    pub select: super::select::SelectArgs,
    #[command(flatten)]
    pub outputs: super::select::ReportOutArgs,
    /// Text: every column in full, endpoints never shortened, whatever the terminal's
    /// width (the default when standard output is not a terminal and COLUMNS is unset).
    #[arg(long)]
    pub wide: bool,
    /// Text: colour connection states and analysis flags (auto: only on a terminal, and
    /// not when NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub diag: Diagnostics,
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
    pub write: Option<PathBuf>,
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
    /// NSS key log (`SSLKEYLOGFILE`) to decrypt TLS with; default: `$SSLKEYLOGFILE` if set.
    /// Secrets in a pcapng's Decryption Secrets Blocks are used as well.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// Capture file (pcap or pcapng, plain or compressed: gzip, zstd, xz); `-` reads standard input.
    #[arg(required_unless_present = "read", conflicts_with = "read")]
    pub file: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Plain text for terminals, or Markdown for handouts.
    #[arg(long, value_enum, default_value_t = Style::Text)]
    pub format: Style,
    /// NSS key log (`SSLKEYLOGFILE`) to decrypt TLS with; default: `$SSLKEYLOGFILE` if set.
    /// Secrets in a pcapng's Decryption Secrets Blocks are used as well.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    // Which connections to tell (default: every one).
    #[command(flatten)]
    pub select: super::select::SelectArgs,
    /// Text: colour the analysis flags and resets (auto: only on a terminal, and not when
    /// NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub diag: Diagnostics,
}

#[derive(clap::Args, Debug)]
pub struct DiagramArgs {
    /// Capture file (pcap or pcapng, plain or compressed: gzip, zstd, xz); `-` reads standard input.
    #[arg(required_unless_present = "read", conflicts_with = "read")]
    pub file: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
    // Which connection to draw: the first selected (default: the first of the capture).
    #[command(flatten)]
    pub select: super::select::SelectArgs,
    /// Mermaid `sequenceDiagram` (GitHub, slides), plain ASCII, or SVG for print
    /// [default: mermaid; svg with --graph].
    #[arg(long, value_enum)]
    pub format: Option<DiagramFormat>,
    /// Draw only the opening (up to the handshake-completing ACK).
    #[arg(long)]
    pub handshake_only: bool,
    /// NSS key log (`SSLKEYLOGFILE`) to decrypt TLS with; default: `$SSLKEYLOGFILE` if set.
    /// Secrets in a pcapng's Decryption Secrets Blocks are used as well.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// Draw only frames A to B (capture frame numbers, inclusive; `A-` or `-B` leave an
    /// end open).
    #[arg(long, value_name = "A-B", conflicts_with = "time")]
    pub frames: Option<FrameRange>,
    /// Draw only the packets A to B seconds after the connection's first (inclusive, as
    /// the diagram's time column prints them).
    #[arg(long, value_name = "A-B")]
    pub time: Option<TimeRange>,
    /// Draw a graph instead of the ladder: `seq` is the sequence-number/time graph
    /// (Stevens/tcptrace style) of each direction, as SVG.
    #[arg(long, value_enum)]
    pub graph: Option<Graph>,
    #[command(flatten)]
    pub diag: Diagnostics,
}

#[derive(clap::Args, Debug)]
pub struct QuizArgs {
    /// Capture file (pcap or pcapng, plain or compressed: gzip, zstd, xz).
    #[arg(required_unless_present = "read", conflicts_with = "read")]
    pub file: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Connection id (as `tcpscope report` lists them); default: the first.
    #[arg(long)]
    pub conn: Option<u64>,
    /// Ask about every packet, not only the key ones (opening, closing, state changes,
    /// analysis flags, first data each way).
    #[arg(long)]
    pub all: bool,
    /// What to ask, comma-separated: flags, ack, state, loss, tls.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "flags,ack,state,loss,tls"
    )]
    pub ask: Vec<String>,
    /// Most packets to ask about (0: no limit; line-based quiz only).
    #[arg(long, default_value_t = 0)]
    pub max: usize,
    /// Ask line by line on standard input/output instead of in the terminal UI (the
    /// default whenever standard input or output is not a terminal, e.g. piped answers).
    #[arg(long)]
    pub text: bool,
    /// NSS key log (`SSLKEYLOGFILE`) to decrypt TLS with; default: `$SSLKEYLOGFILE` if set.
    /// Secrets in a pcapng's Decryption Secrets Blocks are used as well.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// The scenario to stage (`--list` describes each).
    #[arg(long, value_enum, default_value_t = Scenario::Get)]
    pub scenario: Scenario,
    /// Headless: print the report (as `tcpscope report`) once the scenario is over,
    /// instead of opening the terminal UI.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// List the scenarios, one line each.
    #[arg(long)]
    pub list: bool,
    /// Save the captured packets to this pcap file too.
    #[arg(short, long, value_name = "FILE.pcap")]
    pub write: Option<PathBuf>,
    /// Replay the bundled capture of the scenario without capturing (what happens
    /// anyway without capture permission).
    #[arg(long)]
    pub replay: bool,
    /// Presenter mode for the terminal UI.
    #[arg(long)]
    pub present: bool,
}

/// When the text outputs are coloured (`--color`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Only when standard output is a terminal and NO_COLOR is unset or empty.
    #[default]
    Auto,
    /// Always, even into a pipe or file (and whatever NO_COLOR says).
    Always,
    /// Never.
    Never,
}

/// What a command that reads a capture file says on standard error besides its output.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct Diagnostics {
    /// No progress bar (it shows on standard error only when that is a terminal and
    /// reading takes over half a second). Warnings are still printed.
    #[arg(short, long)]
    pub quiet: bool,
    /// Exit with status 1 when the capture gave any warning (cut short, a bogus record),
    /// after writing the output. The warnings go to standard error either way.
    #[arg(long)]
    pub strict: bool,
}
