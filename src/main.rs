use clap::Parser;
use std::io::{self, BufWriter};
use std::process::ExitCode;
use tcpscope::analyze::Config;
use tcpscope::capture::Source;
use tcpscope::cli::{Cli, Command, EXIT_ERROR, EXIT_OK, EXIT_USAGE, NO_ARGS_USAGE, ReportArgs};
use tcpscope::headless;
use tcpscope::report;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        None => match cli.file {
            Some(file) => tcpscope::ui::run(tcpscope::ui::Options {
                file,
                present: cli.present,
            }),
            None => {
                println!("{NO_ARGS_USAGE}");
                return ExitCode::from(EXIT_OK);
            }
        },
        Some(Command::Open(a)) => tcpscope::ui::run(tcpscope::ui::Options {
            file: a.file,
            present: a.present,
        }),
        Some(Command::Report(args)) => run_report(args),
        Some(Command::ExportHttp(args)) => run_export(args),
        Some(Command::Explain(a)) => tcpscope::classroom::run_explain(a),
        Some(Command::Diagram(a)) => tcpscope::classroom::run_diagram(a),
        Some(Command::Quiz(a)) => tcpscope::classroom::run_quiz(a),
        Some(Command::Live(args)) => tcpscope::live::run(args),
        Some(Command::Demo(a)) => tcpscope::demo::run(a),
        Some(Command::Interfaces) => tcpscope::live::print_interfaces(),
    };
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("tcpscope: {e:#}");
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

fn run_export(args: tcpscope::cli::ExportArgs) -> anyhow::Result<()> {
    let source = Source::from_arg(&args.file);
    let mut cfg = Config {
        keep_bodies: true,
        ..Config::default()
    };
    if let Some(h) = cfg.http.as_mut() {
        h.body_cap = args.max_body;
    }
    let (_, conns) = headless::run(&source, cfg)?;
    let dir = std::path::Path::new(&args.out);
    let (index, done) = tcpscope::export::export(dir, &conns)
        .map_err(|e| anyhow::anyhow!("cannot write to {}: {e}", dir.display()))?;
    let written = done.iter().filter(|e| e.file.is_some()).count();
    println!(
        "wrote {written} of {} response bodies to {} (list: {}/{index})",
        done.len(),
        dir.display(),
        dir.display()
    );
    Ok(())
}

fn run_report(args: ReportArgs) -> anyhow::Result<()> {
    let source = Source::from_arg(&args.file);
    let mut cfg = Config {
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        ..Config::default()
    };
    cfg.engine.keep_packets = args.packets;
    cfg.workers = args.threads;
    if args.no_http {
        cfg.http = None;
    }
    let stdout = io::stdout();
    let out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut writer = report::Writer::new(out, args.format);
    let mut write_err: Option<io::Error> = None;
    let progress = tcpscope::parallel::ReadProgress::default();
    let stats = headless::stream_with_progress(&source, cfg, &progress, &mut |c| {
        if write_err.is_none()
            && let Err(e) = writer.connection(&c)
        {
            // Nobody reads any more (`| head`): stop reading the capture too.
            write_err = Some(e);
            progress
                .stop
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    })?;
    if let Some(e) = write_err {
        return Err(e.into());
    }
    writer.finish(&stats)?;
    Ok(())
}
