//! From the arguments clap read to the settings a command runs on, built once and checked
//! once (ripgrep's low-level args -> high-level args). A handler in `cmd/` gets only its
//! own part of `Config`: sources, analysis settings, capture settings, formats, never a
//! clap struct, and never a value it still has to check.

use super::args::{DemoArgs, DiagramArgs, ExplainArgs, ExportArgs, LiveArgs, QuizArgs, ReportArgs};
use super::{Cli, Command};
use crate::capture::Source;
use crate::capture::live::LiveConfig;
use crate::demo::Scenario;
use crate::explain::narrative::Style;
use crate::explain::quiz::Kind;
use crate::pipeline;
use crate::report::Format;
use crate::report::diagram::{self, DiagramFormat};
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
}

/// `tcpscope report`.
pub struct Report {
    pub source: Source,
    /// Several files reported one after another (no `--merge`): all of them in order,
    /// `source` being the first; empty otherwise.
    pub files: Vec<Source>,
    pub analysis: pipeline::Config,
    pub format: Format,
}

/// `tcpscope export-http`.
pub struct ExportHttp {
    pub source: Source,
    pub analysis: pipeline::Config,
    pub out: PathBuf,
}

/// `tcpscope explain`.
pub struct Explain {
    /// As given (`-` for standard input): it names the capture in messages.
    pub file: String,
    /// One connection, or every one.
    pub conn: Option<u64>,
    pub style: Style,
}

/// `tcpscope diagram`.
pub struct Diagram {
    pub file: String,
    pub conn: u64,
    pub format: DiagramFormat,
    pub options: diagram::Options,
    pub slice: diagram::Slice,
    pub graph: Option<diagram::Graph>,
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
            Some(Command::Report(a)) => Config::Report(report(a)),
            Some(Command::ExportHttp(a)) => Config::ExportHttp(export_http(a)),
            Some(Command::Explain(a)) => Config::Explain(explain(a)),
            Some(Command::Diagram(a)) => Config::Diagram(diagram(a)?),
            Some(Command::Quiz(a)) => Config::Quiz(quiz(a)?),
            Some(Command::Live(a)) => Config::Live(live(a)?),
            Some(Command::Demo(a)) => Config::Demo(demo(a)),
            Some(Command::Interfaces) => Config::Interfaces,
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
        Some(Command::Live(_) | Command::Demo(_) | Command::Interfaces) => return Ok(()),
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

fn report(a: ReportArgs) -> Report {
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
    Report {
        source,
        files,
        analysis,
        format: a.format,
    }
}

fn export_http(a: ExportArgs) -> ExportHttp {
    let mut analysis = pipeline::Config {
        keep_bodies: true,
        ..pipeline::Config::default()
    };
    if let Some(h) = analysis.http.as_mut() {
        h.body_cap = a.max_body;
    }
    ExportHttp {
        source: Source::from_arg(&a.input.pick(a.file.as_ref()).unwrap_or_default()),
        analysis,
        out: PathBuf::from(a.out),
    }
}

fn explain(a: ExplainArgs) -> Explain {
    Explain {
        file: a.input.pick(a.file.as_ref()).unwrap_or_default(),
        conn: a.conn,
        style: a.format,
    }
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
        conn: a.conn.unwrap_or(1),
        format,
        options: diagram::Options {
            handshake_only: a.handshake_only,
        },
        slice,
        graph: a.graph,
    })
}

fn quiz(a: QuizArgs) -> anyhow::Result<Quiz> {
    let kinds = a
        .ask
        .iter()
        .map(|s| {
            Kind::parse(s).with_context(|| format!("--ask {s}: expected flags, ack, state or loss"))
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

fn demo(a: DemoArgs) -> Demo {
    let action = if a.list {
        DemoAction::List
    } else if a.replay {
        DemoAction::Replay
    } else {
        DemoAction::Stage
    };
    Demo {
        scenario: a.scenario,
        action,
        format: a.format,
        write: a.write,
        present: a.present,
    }
}
