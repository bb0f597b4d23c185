//! A damaged capture's warnings (cut short, a bogus record, a reader that gave up) on
//! standard error as well as in the report, one line each, `tcpscope: warning: FILE:
//! ...`, so a script that reads only standard output, or only the exit status with
//! `--strict`, still learns of them.

use crate::pipeline::CaptureStats;
use std::io::{self, Write};

/// Print `stats`' warnings on standard error; with `strict`, an error (exit status 1)
/// when there was any. Called after the report is written.
pub fn report(stats: &CaptureStats, strict: bool) -> anyhow::Result<()> {
    let file = crate::escape::escape(&name(&stats.file));
    let mut err = io::stderr().lock();
    for w in &stats.warnings {
        let _ = writeln!(
            err,
            "tcpscope: warning: {file}: {}",
            crate::escape::escape(w)
        );
    }
    let n = stats.warnings.len();
    if strict && n > 0 {
        anyhow::bail!(
            "{file}: {n} warning{} and --strict: the output above may be incomplete",
            if n == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// What a capture is called in messages: `standard input` for `-`.
fn name(file: &str) -> String {
    if file == "-" {
        "standard input".into()
    } else {
        file.into()
    }
}
