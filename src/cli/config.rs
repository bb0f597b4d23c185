//! From the arguments clap read to the settings a command runs on, built once and checked
//! once (ripgrep's low-level args -> high-level args). A handler in `cmd/` gets only its
//! own part of `Config`: sources, analysis settings, capture settings, formats, never a
//! clap struct, and never a value it still has to check.

use super::args::{
    ColorChoice, DemoArgs, Diagnostics, DiagramArgs, ExplainArgs, ExportArgs, LiveArgs, QuizArgs,
    ReportArgs,
};
use super::{Cli, Command};
use crate::capture::Source;
use crate::capture::live::LiveConfig;
use crate::demo::Scenario;
use crate::explain::narrative::Style;
use crate::explain::quiz::Kind;
use crate::pipeline;
use crate::report::Format;
use crate::report::diagram::{self, DiagramFormat};
use crate::report::select::Selection;
use crate::ui;
use anyhow::Context;
use std::path::PathBuf;
use std::time::Duration;

/// One command, ready to run.
pub enum Config {
    /// No command and no file: the short usage.
    Usage,
    /// `tcpscope FILE`, `tcpscope open FILE`.
    Open(ui::Options),
    Report(Report),
    ExportHttp(ExportHttp),
    Explain(Explain),
    Diagram(Diagram),
    Quiz(Quiz),
    Live(Live),
    Demo(Demo),
    Interfaces,
    /// `tcpscope completions SHELL`.
    Completions(clap_complete::Shell),
    /// `tcpscope man`.
    Man,
}

/// `tcpscope report`.
pub struct Report {
    pub source: Source,
    /// Several files reported one after another (no `--merge`): all of them in order,
    /// `source` being the first; empty otherwise.
    pub files: Vec<Source>,
    pub analysis: pipeline::Config,
    pub format: Format,
    /// Which connections to report (all when empty).
    pub select: Selection,
    /// `-w`: the selected connections' frames into this pcap.
    pub write: Option<PathBuf>,
    /// `--format zeek --out DIR`: the folder of the logs.
    pub out: Option<PathBuf>,
    pub output: Output,
}

/// How a command that reads a capture file writes besides its data: the text table's
/// width, colour, the progress bar, what warnings do.
#[derive(Clone, Copy, Debug, Default)]
pub struct Output {
    /// Every column in full (`--wide`).
    pub wide: bool,
    pub color: ColorChoice,
    /// No progress bar (`--quiet`).
    pub quiet: bool,
    /// Exit status 1 when the capture gave warnings (`--strict`).
    pub strict: bool,
}

impl Output {
    fn of(d: Diagnostics, color: ColorChoice, wide: bool) -> Output {
        Output {
            wide,
            color,
            quiet: d.quiet,
            strict: d.strict,
        }
    }
}

/// `tcpscope export-http`.
pub struct ExportHttp {
    pub source: Source,
    pub analysis: pipeline::Config,
    pub out: PathBuf,
    pub select: Selection,
    pub output: Output,
}

/// `tcpscope explain`.
pub struct Explain {
    /// As given (`-` for standard input): it names the capture in messages.
    pub file: String,
    /// The connections to tell (every one when empty).
    pub select: Selection,
    pub style: Style,
    pub output: Output,
}

/// `tcpscope diagram`.
pub struct Diagram {
    pub file: String,
    /// The first connection it selects is drawn (the capture's first when empty).
    pub select: Selection,
    pub format: DiagramFormat,
    pub options: diagram::Options,
    pub slice: diagram::Slice,
    pub graph: Option<diagram::Graph>,
    pub output: Output,
}

/// `tcpscope quiz`.
pub struct Quiz {
    pub file: String,
    pub conn: u64,
    pub kinds: Vec<Kind>,
    pub all: bool,
    /// Most questions in the line-based quiz (0: no limit).
    pub max: usize,
    /// Line by line even on a terminal.
    pub text: bool,
}

/// `tcpscope live`.
pub struct Live {
    pub capture: LiveConfig,
    pub analysis: pipeline::Config,
    /// A report in this format, or (None) the terminal UI.
    pub format: Option<Format>,
    pub present: bool,
}

/// `tcpscope demo`.
pub struct Demo {
    pub scenario: Scenario,
    pub action: DemoAction,
    /// A report in this format, or (None) the terminal UI.
    pub format: Option<Format>,
    pub write: Option<PathBuf>,
    pub present: bool,
}

/// What `tcpscope demo` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoAction {
    /// List the scenarios.
    List,
    /// Show the bundled recording of the scenario.
    Replay,
    /// Stage the scenario and capture it (replaying when capture is not allowed).
    Stage,
}

impl Config {
    /// The settings of the command `cli` asks for; an error names the option at fault.
    pub fn from_cli(cli: Cli) -> anyhow::Result<Config> {
        super::keys::load(&cli)?;
        read_settings(&cli)?;
        Ok(match cli.command {
            None => match cli.input.pick(cli.file.as_ref()) {
                Some(file) => Config::Open(ui::Options {
                    file,
                    present: cli.present,
                }),
                None => Config::Usage,
            },
            Some(Command::Open(a)) => Config::Open(ui::Options {
                file: a.input.pick(a.file.as_ref()).unwrap_or_default(),
                present: a.present,
            }),
            Some(Command::Report(a)) => Config::Report(report(a)?),
            Some(Command::ExportHttp(a)) => Config::ExportHttp(export_http(a)?),
            Some(Command::Explain(a)) => Config::Explain(explain(a)?),
            Some(Command::Diagram(a)) => Config::Diagram(diagram(a)?),
            Some(Command::Quiz(a)) => Config::Quiz(quiz(a)?),
            Some(Command::Live(a)) => Config::Live(live(a)?),
            Some(Command::Demo(a)) => Config::Demo(demo(a)?),
            Some(Command::Interfaces) => Config::Interfaces,
            Some(Command::Completions(a)) => Config::Completions(a.shell),
            Some(Command::Man) => Config::Man,
        })
    }
}

/// The read filter and packet count of a file command, checked (a filter no link type
/// accepts is refused before any file is opened) and made the process's read settings
/// (`capture::input`), so every reader of the capture applies them.
fn read_settings(cli: &Cli) -> anyhow::Result<()> {
    let input = match &cli.command {
        None => &cli.input,
        Some(Command::Open(a)) => &a.input,
        Some(Command::Report(a)) => &a.input,
        Some(Command::ExportHttp(a)) => &a.input,
        Some(Command::Explain(a)) => &a.input,
        Some(Command::Diagram(a)) => &a.input,
        Some(Command::Quiz(a)) => &a.input,
        Some(
            Command::Live(_)
            | Command::Demo(_)
            | Command::Interfaces
            | Command::Completions(_)
            | Command::Man,
        ) => return Ok(()),
    };
    let filter = input.filter.clone().filter(|f| !f.trim().is_empty());
    if let Some(f) = &filter {
        crate::capture::input::check(f)?;
    }
    crate::capture::input::set(crate::capture::input::Input {
        filter,
        count: input.count,
    });
    Ok(())
}

/// A count option as a `usize` (saturating where `usize` is narrower than `u64`).
fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn report(a: ReportArgs) -> anyhow::Result<Report> {
    let mut analysis = pipeline::Config {
        max_connections: count(a.max_connections),
        ..pipeline::Config::default()
    };
    analysis.engine.keep_packets = a.packets;
    analysis.workers = a.threads;
    if a.no_http {
        analysis.http = None;
    }
    let mut files: Vec<Source> = match &a.input.read {
        Some(r) => vec![Source::from_arg(r)],
        None => a.files.iter().map(|f| Source::from_arg(f)).collect(),
    };
    let source = match files.len() {
        0 => Source::Stdin,
        1 => files.remove(0),
        _ if a.merge => Source::Merged(std::mem::take(&mut files)),
        _ => files[0].clone(),
    };
    let (write, out) = (a.outputs.write, a.outputs.out);
    match (a.format, &out) {
        (Format::Zeek, None) => {
            anyhow::bail!("--format zeek writes conn.log and http.log into a folder: add --out DIR")
        }
        (Format::Zeek, Some(_)) | (_, None) => {}
        (f, Some(_)) => anyhow::bail!(
            "--out DIR is for --format zeek; --format {} prints to standard output",
            format_name(f)
        ),
    }
    if write.is_some() && matches!(source, Source::Stdin) {
        anyhow::bail!(
            "-w reads the capture a second time to copy its frames: give a file, not standard input"
        );
    }
    if write.is_some() && !files.is_empty() {
        anyhow::bail!(
            "-w copies the frames of one capture: give one file, or several with --merge"
        );
    }
    Ok(Report {
        source,
        files,
        analysis,
        format: a.format,
        select: a.select.into_selection()?,
        write,
        out,
        output: Output::of(a.diag, a.color, a.wide),
    })
}

fn format_name(f: Format) -> String {
    use clap::ValueEnum;
    f.to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_string())
}

/// `live`/`demo --format`: the formats that print to standard output.
fn stream_format(f: Option<Format>) -> anyhow::Result<Option<Format>> {
    match f {
        Some(Format::Zeek) => anyhow::bail!(
            "--format zeek is for files: record with -w, then `tcpscope report FILE --format zeek --out DIR`"
        ),
        f => Ok(f),
    }
}

fn export_http(a: ExportArgs) -> anyhow::Result<ExportHttp> {
    let mut analysis = pipeline::Config {
        keep_bodies: true,
        ..pipeline::Config::default()
    };
    if let Some(h) = analysis.http.as_mut() {
        h.body_cap = a.max_body;
    }
    Ok(ExportHttp {
        source: Source::from_arg(&a.input.pick(a.file.as_ref()).unwrap_or_default()),
        analysis,
        out: PathBuf::from(a.out),
        select: a.select.into_selection()?,
        output: Output::of(a.diag, ColorChoice::Never, false),
    })
}

fn explain(a: ExplainArgs) -> anyhow::Result<Explain> {
    Ok(Explain {
        file: a.input.pick(a.file.as_ref()).unwrap_or_default(),
        select: a.select.into_selection()?,
        style: a.format,
        output: Output::of(a.diag, a.color, false),
    })
}

fn diagram(a: DiagramArgs) -> anyhow::Result<Diagram> {
    let format = match (a.graph, a.format) {
        (Some(_), None | Some(DiagramFormat::Svg)) => DiagramFormat::Svg,
        (Some(g), Some(f)) => anyhow::bail!(
            "--graph {} is drawn as SVG only, not {}: use --format svg",
            g.name(),
            f.name()
        ),
        (None, f) => f.unwrap_or(DiagramFormat::Mermaid),
    };
    let slice = match (a.frames, a.time) {
        (Some(r), _) => diagram::Slice::Frames(r),
        (None, Some(r)) => diagram::Slice::Time(r),
        (None, None) => diagram::Slice::All,
    };
    Ok(Diagram {
        file: a.input.pick(a.file.as_ref()).unwrap_or_default(),
        select: a.select.into_selection()?,
        format,
        options: diagram::Options {
            handshake_only: a.handshake_only,
        },
        slice,
        graph: a.graph,
        output: Output::of(a.diag, ColorChoice::Never, false),
    })
}

fn quiz(a: QuizArgs) -> anyhow::Result<Quiz> {
    let kinds = a
        .ask
        .iter()
        .map(|s| {
            Kind::parse(s)
                .with_context(|| format!("--ask {s}: expected flags, ack, state, loss or tls"))
        })
        .collect::<anyhow::Result<Vec<Kind>>>()?;
    Ok(Quiz {
        file: a.input.pick(a.file.as_ref()).unwrap_or_default(),
        conn: a.conn.unwrap_or(1),
        kinds,
        all: a.all,
        max: a.max,
        text: a.text,
    })
}

fn live(a: LiveArgs) -> anyhow::Result<Live> {
    stream_format(a.format)?;
    let capture = live_capture(&a)?;
    // The TUI keeps what its views show; a report, what `report` keeps.
    let mut analysis = match a.format {
        Some(_) => pipeline::Config::default(),
        None => ui::loader::live_ui_config(),
    };
    analysis.max_connections = count(a.max_connections);
    analysis.engine.max_packets_per_conn = count(a.max_packets_per_conn);
    if a.no_http {
        analysis.http = None;
    }
    Ok(Live {
        capture,
        analysis,
        format: a.format,
        present: a.present,
    })
}

/// What `tcpscope live` captures.
fn live_capture(a: &LiveArgs) -> anyhow::Result<LiveConfig> {
    let duration = match a.duration {
        Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => anyhow::bail!("--duration {s}: give a positive number of seconds"),
        None => None,
    };
    Ok(LiveConfig {
        interface: a.interface.clone(),
        filter: a.filter.clone().filter(|f| !f.trim().is_empty()),
        write: a.write.clone(),
        snaplen: a.snaplen,
        promisc: !a.no_promisc,
        buffer_bytes: i32::try_from(u64::from(a.buffer_mib) << 20).unwrap_or(i32::MAX),
        immediate_buffer_bytes: crate::capture::live::IMMEDIATE_BUFFER,
        count: a.count,
        duration,
        // The TUI shows each packet at once; a report can take them by the kernel block
        // (at most 50 ms later), which costs far fewer wake-ups under load.
        immediate: a.format.is_none() && !a.buffered,
    })
}

fn demo(a: DemoArgs) -> anyhow::Result<Demo> {
    stream_format(a.format)?;
    let action = if a.list {
        DemoAction::List
    } else if a.replay {
        DemoAction::Replay
    } else {
        DemoAction::Stage
    };
    Ok(Demo {
        scenario: a.scenario,
        action,
        format: a.format,
        write: a.write,
        present: a.present,
    })
}
