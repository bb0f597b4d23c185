//! The classroom commands' edge: `explain`, `diagram` and `quiz` (arguments, reading the
//! capture, choosing the connection, writing the output, the line-based quiz loop). The
//! text itself comes from `explain` and `report::diagram`.

use crate::analyze::{Config, Connection};
use crate::capture::Source;
use crate::explain::narrative::{self, Style};
use crate::explain::quiz::{self, Kind, Score};
use crate::explain::{ConnFacts, arrow_label};
use crate::headless;
use crate::report::diagram::{self, DiagramFormat};
use anyhow::{Context, bail};
use std::io::{self, BufRead, Write};

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    pub file: String,
    /// Connection id (as `tcpscope report` lists them); default: every connection.
    #[arg(long)]
    pub conn: Option<u64>,
    /// Plain text for terminals, or Markdown for handouts.
    #[arg(long, value_enum, default_value_t = Style::Text)]
    pub format: Style,
}

#[derive(clap::Args, Debug)]
pub struct DiagramArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    pub file: String,
    /// Connection id (as `tcpscope report` lists them); default: the first.
    #[arg(long)]
    pub conn: Option<u64>,
    /// Mermaid `sequenceDiagram` (GitHub, slides), plain ASCII, or SVG for print.
    #[arg(long, value_enum, default_value_t = DiagramFormat::Mermaid)]
    pub format: DiagramFormat,
    /// Draw only the opening (up to the handshake-completing ACK).
    #[arg(long)]
    pub handshake_only: bool,
}

#[derive(clap::Args, Debug)]
pub struct QuizArgs {
    /// Capture file (pcap or pcapng).
    pub file: String,
    /// Connection id (as `tcpscope report` lists them); default: the first.
    #[arg(long)]
    pub conn: Option<u64>,
    /// Ask about every packet, not only the key ones (opening, closing, state changes,
    /// analysis flags, first data each way).
    #[arg(long)]
    pub all: bool,
    /// What to ask, comma-separated: flags, ack, state.
    #[arg(long, value_delimiter = ',', default_value = "flags,ack,state")]
    pub ask: Vec<String>,
    /// Most packets to ask about (0: no limit; line-based quiz only).
    #[arg(long, default_value_t = 0)]
    pub max: usize,
    /// Ask line by line on standard input/output instead of in the terminal UI (the
    /// default whenever standard input or output is not a terminal, e.g. piped answers).
    #[arg(long)]
    pub text: bool,
}

/// Analyse `file` keeping every packet record.
fn load(file: &str) -> anyhow::Result<Vec<Connection>> {
    let source = Source::from_arg(file);
    let mut cfg = Config::default();
    cfg.engine.keep_packets = true;
    let (_, conns) = headless::run(&source, cfg)?;
    Ok(conns)
}

/// The connections asked for: one by id, or all (`None`).
fn select(conns: Vec<Connection>, id: Option<u64>, file: &str) -> anyhow::Result<Vec<Connection>> {
    if conns.is_empty() {
        bail!("{file} holds no TCP connection");
    }
    match id {
        None => Ok(conns),
        Some(id) => {
            let n = conns.len();
            match conns.into_iter().find(|c| c.id == id) {
                Some(c) => Ok(vec![c]),
                None => bail!(
                    "{file} has no connection {id}: its connections are 1..={n} (`tcpscope report {file}` lists them)"
                ),
            }
        }
    }
}

pub fn run_explain(a: ExplainArgs) -> anyhow::Result<()> {
    let conns = select(load(&a.file)?, a.conn, &a.file)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for (k, c) in conns.iter().enumerate() {
        if k > 0 {
            out.write_all(b"\n")?;
        }
        out.write_all(narrative::render(c, a.format).as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

pub fn run_diagram(a: DiagramArgs) -> anyhow::Result<()> {
    let conns = select(load(&a.file)?, Some(a.conn.unwrap_or(1)), &a.file)?;
    let opts = diagram::Options {
        handshake_only: a.handshake_only,
    };
    let text = diagram::render(&conns[0], a.format, opts);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

pub fn run_quiz(a: QuizArgs) -> anyhow::Result<()> {
    let kinds = a
        .ask
        .iter()
        .map(|s| Kind::parse(s).with_context(|| format!("--ask {s}: expected flags, ack or state")))
        .collect::<anyhow::Result<Vec<Kind>>>()?;
    use std::io::IsTerminal;
    if !a.text && io::stdin().is_terminal() && io::stdout().is_terminal() {
        let mut started = false;
        let (id, all) = (a.conn.unwrap_or(1), a.all);
        return crate::ui::run_with(
            crate::ui::Options {
                file: a.file,
                present: false,
            },
            &mut |app| crate::ui::quiz::start(app, id, &kinds, all, &mut started),
        );
    }
    let conns = select(load(&a.file)?, Some(a.conn.unwrap_or(1)), &a.file)?;
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    quiz_lines(&conns[0], &kinds, a.all, a.max, &mut stdin.lock(), &mut out)?;
    Ok(())
}

/// The line-based quiz: questions to `out`, answers from `input` (one per line; an empty
/// line skips a question, `q` ends the quiz). Returns the score.
pub fn quiz_lines(
    c: &Connection,
    kinds: &[Kind],
    all: bool,
    max: usize,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<Score> {
    let cf = ConnFacts::of(c);
    let mut positions = if all {
        (0..cf.packets.len()).collect()
    } else {
        quiz::key_positions(cf.packets)
    };
    if max > 0 {
        positions.truncate(max);
    }
    let mut score = Score::default();
    writeln!(
        out,
        "Quiz on connection {}: client {} → server {}.",
        c.id, c.client, c.server
    )?;
    writeln!(
        out,
        "Before each packet is shown, predict it. Numbers are relative (the SYN is seq 0). Empty line: skip; q: quit.\n"
    )?;
    let mut shown = 0usize;
    let reveal = |out: &mut dyn Write, i: usize| -> io::Result<()> {
        let p = &cf.packets[i];
        writeln!(
            out,
            "  [{}] {} → {}  {}",
            p.frame,
            p.dir.name(),
            p.dir.other().name(),
            arrow_label(p)
        )
    };
    'outer: for &pos in &positions {
        while shown < pos {
            reveal(out, shown)?;
            shown += 1;
        }
        writeln!(out)?;
        for q in quiz::questions(&cf, pos, kinds) {
            write!(out, "{}\n> ", q.prompt)?;
            out.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                writeln!(out)?;
                break 'outer;
            }
            let ans = line.trim();
            if ans.eq_ignore_ascii_case("q") || ans.eq_ignore_ascii_case("quit") {
                break 'outer;
            }
            let v = quiz::check(&cf, &q, ans);
            if ans.is_empty() {
                writeln!(out, "skipped: the answer is {}", v.expected)?;
            } else {
                score.record(&v);
                if v.correct {
                    writeln!(out, "right: {}", v.expected)?;
                } else if v.unparsed {
                    writeln!(out, "could not read {ans:?}; the answer is {}", v.expected)?;
                } else {
                    writeln!(out, "not quite: the answer is {}", v.expected)?;
                }
            }
            for s in &v.explanation {
                writeln!(out, "    {s}")?;
            }
        }
        reveal(out, pos)?;
        shown = pos + 1;
    }
    writeln!(out, "\nScore: {score}")?;
    Ok(score)
}
