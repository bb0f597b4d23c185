//! The command line: what clap reads (`Cli`, `Command`, the per-command structs in
//! `args`) and, built from it once, the `Config` the commands run on (`config`: low-level
//! arguments in, high-level settings out, as ripgrep does). The handlers are in `cmd/`;
//! nothing here reads a capture or writes a report.

pub mod args;
pub mod argv;
pub mod config;
pub mod docs;
pub mod keys;
pub mod select;

pub use args::{
    DemoArgs, DiagramArgs, ExplainArgs, ExportArgs, LiveArgs, OpenArgs, QuizArgs, ReportArgs,
};
pub use config::Config;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// Read the command line (program name first): the command word first (`argv`: a
/// mistyped command is named as such, not taken for a missing file), then everything by
/// clap. On `Err`, the message is printed and the process should exit with the code.
pub fn parse(args: Vec<std::ffi::OsString>) -> Result<Cli, ExitCode> {
    let is_file = |p: &std::path::Path| p.is_file();
    let exists = |p: &std::path::Path| p.exists();
    let args = match argv::resolve(
        &<Cli as clap::CommandFactory>::command(),
        args,
        &exists,
        &is_file,
    ) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tcpscope: {e}");
            return Err(ExitCode::from(EXIT_USAGE));
        }
    };
    Cli::try_parse_from(args).map_err(|e| clap_exit(&e))
}

/// What clap's own answer becomes: `--help` and `--version` are printed and succeed, a
/// usage error is printed and exits 2.
pub fn clap_exit(e: &clap::Error) -> ExitCode {
    let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
    // A closed pipe (`--help | head`) is no error.
    let _ = e.print();
    ExitCode::from(code)
}

const AFTER_HELP: &str = "\
Exit status:
  0  success (also when the output pipe is closed early, e.g. `| head`)
  1  error: the capture could not be read (missing, unreadable, not a capture), or
     with --strict, it gave warnings (cut short, a bogus record)
  2  usage error: unknown command or option

A FILE named like a command (`report`, `open`, ...) is opened when it is the only
argument and that command needs a file (`tcpscope report` beside a file `report`);
`tcpscope ./report` or `tcpscope -- report` always opens the file.

Examples:
  tcpscope report captures/http-get.pcap
  tcpscope report --format json captures/http-keepalive.pcap | jq '.connections[0]'
  tcpdump -i lo -w - | tcpscope report -

Output: the text table fits the terminal (COLUMNS if set; into a pipe: every column
in full, as with --wide); --color auto|always|never (NO_COLOR is honoured); a progress
bar on standard error for files that take over half a second (not with -q, or when
standard error is not a terminal); warnings also on standard error as
`tcpscope: warning: FILE: ...`.";

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
    /// NSS key log to decrypt TLS with (as for `open --keylog`).
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub input: args::InputArgs,
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
    Explain(ExplainArgs),
    /// Draw a connection's ladder diagram: Mermaid, ASCII or SVG.
    Diagram(DiagramArgs),
    /// Predict each next packet of a connection (flags, ACK, state): in the terminal UI,
    /// or line by line with --text or when not on a terminal.
    Quiz(QuizArgs),
    /// Capture live from an interface: the terminal UI, or a report with --format.
    #[command(after_help = LIVE_HELP)]
    Live(LiveArgs),
    /// Stage a TCP/HTTP scenario on 127.0.0.1 and capture it live (`--list` lists them).
    Demo(DemoArgs),
    /// List the interfaces libpcap can capture on, with addresses, flags and link types.
    Interfaces,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard
    /// output.
    #[command(after_help = docs::COMPLETIONS_HELP)]
    Completions(docs::CompletionsArgs),
    /// Print the manual page (roff) to standard output: `tcpscope man | man -l -`.
    #[command(after_help = docs::MAN_HELP)]
    Man,
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
  tcpscope completions bash|zsh|fish|...             shell completions (README: how to install)
  tcpscope man | man -l -                            the manual page

Try it on a bundled capture (captures/README.md lists them all):
  tcpscope captures/http-get.pcap
  tcpscope report captures/tcp-lossy-client-side.pcap
No capture at hand? `tcpscope demo --list` shows what it can stage for you.

Run `tcpscope --help` for every command and option.";
