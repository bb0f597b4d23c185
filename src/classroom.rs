//! What the classroom commands (`explain`, `diagram`, `quiz`; handlers in `cmd/`) share:
//! reading a capture with every packet kept, choosing the connection asked for, and the
//! line-based quiz loop. The text itself comes from `explain` and `report::diagram`.

use crate::capture::Source;
use crate::explain::quiz::{self, Kind, Score};
use crate::explain::{ConnFacts, arrow_label};
use crate::headless;
use crate::parallel::ReadProgress;
use crate::pipeline::{CaptureStats, Config, Connection};
use crate::report::select::Selection;
use anyhow::bail;
use std::io::{self, BufRead, Write};

/// Analyse `file` keeping every packet record.
pub fn load(file: &str) -> anyhow::Result<Vec<Connection>> {
    Ok(load_with(file, &ReadProgress::default())?.1)
}

/// `load`, publishing how far reading got in `progress`, with the capture's facts.
pub fn load_with(
    file: &str,
    progress: &ReadProgress,
) -> anyhow::Result<(CaptureStats, Vec<Connection>)> {
    let source = Source::from_arg(file);
    let mut cfg = Config::default();
    cfg.engine.keep_packets = true;
    let mut conns = Vec::new();
    let stats = headless::stream_with_progress(&source, cfg, progress, &mut |c| conns.push(c))?;
    Ok((stats, conns))
}

/// The connections asked for: one by id, or all (`None`); `file` names the capture in
/// the error when there is none.
pub fn select(
    conns: Vec<Connection>,
    id: Option<u64>,
    file: &str,
) -> anyhow::Result<Vec<Connection>> {
    let sel = Selection {
        conns: id.into_iter().collect(),
        ..Selection::default()
    };
    select_by(conns, &sel, file)
}

/// The connections `sel` keeps (`--conn`, `--host`, ...); an error when the capture has
/// none, when an id names no connection, or when nothing matches.
pub fn select_by(
    conns: Vec<Connection>,
    sel: &Selection,
    file: &str,
) -> anyhow::Result<Vec<Connection>> {
    if conns.is_empty() {
        bail!("{file} holds no TCP connection");
    }
    sel.check_ids(conns.len() as u64, file)
        .map_err(anyhow::Error::msg)?;
    let n = conns.len();
    let kept: Vec<Connection> = conns.into_iter().filter(|c| sel.matches(c)).collect();
    if kept.is_empty() {
        bail!(
            "{file}: none of its {n} connections matches {} (`tcpscope report {file}` lists them)",
            sel.describe()
        );
    }
    Ok(kept)
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
        quiz::key_positions_for(c, &cf)
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
        for q in quiz::questions_for(c, &cf, pos, kinds) {
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
            let v = quiz::check_for(c, &cf, &q, ans);
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
