//! The commands: one handler per command, each taking its part of `cli::Config`, and
//! what they share: writing connections into a report as they finish, and the exit
//! status (a closed output pipe, as in `| head`, is success).
//!
//! This is the edge: handlers open captures, start live captures and the terminal UI,
//! read the clock and write to standard output. No module outside `cmd` imports it.

pub mod demo;
pub mod diagram;
pub mod explain;
pub mod export_http;
pub mod interfaces;
pub mod live;
pub mod open;
pub mod progress;
pub mod quiz;
mod render;
pub mod report;
mod report_files;
pub mod term;
pub mod warn;

use crate::cli::{Config, EXIT_ERROR, EXIT_OK, NO_ARGS_USAGE};
use crate::pipeline::{CaptureStats, Connection};
use crate::report::{Format, Writer, text};
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Run the command `config` holds.
pub fn run(config: Config) -> anyhow::Result<()> {
    match config {
        Config::Usage => usage(),
        Config::Open(c) => open::run(c),
        Config::Report(c) => report::run(c),
        Config::ExportHttp(c) => export_http::run(c),
        Config::Explain(c) => explain::run(c),
        Config::Diagram(c) => diagram::run(c),
        Config::Quiz(c) => quiz::run(c),
        Config::Live(c) => live::run(c),
        Config::Demo(c) => demo::run(c),
        Config::Interfaces => interfaces::run(),
        Config::Completions(shell) => Ok(crate::cli::docs::completions(shell, &mut io::stdout())?),
        Config::Man => Ok(crate::cli::docs::man(&mut io::stdout())?),
    }
}

/// The exit status of a command's result; an error is printed as one line on stderr,
/// except a closed output pipe, which is success.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) if e.downcast_ref::<crate::ui::run::Interrupted>().is_some() => {
            let sig = e
                .downcast_ref::<crate::ui::run::Interrupted>()
                .map_or(0, |i| i.0);
            ExitCode::from(u8::try_from(128 + sig).unwrap_or(EXIT_ERROR))
        }
        Err(e) => {
            let _ = writeln!(io::stderr(), "tcpscope: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// `tcpscope` alone: what it can do, in a few lines.
fn usage() -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{NO_ARGS_USAGE}")?;
    Ok(out.flush()?)
}

/// Write a report in `format` to `out`: each connection `run` hands over, as it comes,
/// then the summary `run` returns. Every command that prints connections writes them
/// through here.
///
/// When `out` fails (nobody reads any more: `| head`), nothing more is written and `stop`
/// is set, so that whatever feeds `run` (a file being read, a live capture) ends early
/// too; the write error is returned after `run` has ended (`exit_code` counts a broken
/// pipe as success). An error of `run` itself comes first.
pub fn stream_connections<W: Write>(
    out: W,
    format: Format,
    stop: &AtomicBool,
    run: impl FnOnce(&mut dyn FnMut(Connection)) -> anyhow::Result<CaptureStats>,
) -> anyhow::Result<()> {
    stream_report(out, format, text::Options::default(), stop, run).map(|_| ())
}

/// `stream_connections` with the text table laid out as `text` says; returns the
/// capture's facts (their warnings, for standard error).
pub fn stream_report<W: Write>(
    out: W,
    format: Format,
    text: text::Options,
    stop: &AtomicBool,
    run: impl FnOnce(&mut dyn FnMut(Connection)) -> anyhow::Result<CaptureStats>,
) -> anyhow::Result<CaptureStats> {
    let mut writer = Writer::with_text(out, format, text);
    let mut write_err: Option<io::Error> = None;
    let stats = run(&mut |c| {
        if write_err.is_none()
            && let Err(e) = writer.connection(&c)
        {
            write_err = Some(e);
            stop.store(true, Ordering::SeqCst);
        }
    })?;
    if let Some(e) = write_err {
        return Err(e.into());
    }
    writer.finish(&stats)?;
    Ok(stats)
}

/// Read the capture `file` for `explain` or `diagram` (every packet kept), with the
/// progress bar `output` allows; the connections and the capture's facts.
pub fn load_classroom(
    file: &str,
    output: &crate::cli::config::Output,
) -> anyhow::Result<(CaptureStats, Vec<Connection>)> {
    let progress = std::sync::Arc::new(crate::parallel::ReadProgress::default());
    let bar = progress::Bar::start(
        std::sync::Arc::clone(&progress),
        &crate::capture::Source::from_arg(file),
        progress::wanted(output.quiet),
    );
    let r = crate::classroom::load_with(file, &progress);
    bar.finish();
    r
}

/// `conns` narrowed to what `sel` keeps (`--conn`, `--host`, ...); on an error, the
/// capture's warnings are printed first, so they are never lost.
pub fn select_or_warn(
    stats: &CaptureStats,
    conns: Vec<Connection>,
    sel: &crate::report::select::Selection,
    file: &str,
) -> anyhow::Result<Vec<Connection>> {
    crate::classroom::select_by(conns, sel, file).inspect_err(|_| {
        let _ = warn::report(stats, false);
    })
}
