//! `tcpscope export-http`: every decoded HTTP body into a folder, with an index
//! (`export` names and writes the files).

use super::{progress, warn};
use crate::cli::config::ExportHttp;
use crate::headless;
use crate::parallel::ReadProgress;
use std::io::{self, Write};
use std::sync::Arc;

pub fn run(c: ExportHttp) -> anyhow::Result<()> {
    // Before the capture is read: a wrong -o is known at once.
    if c.out.exists() && !c.out.is_dir() {
        anyhow::bail!(
            "{}: not a folder; give -o a folder to write the bodies into (it is created if missing)",
            c.out.display()
        );
    }
    let progress = Arc::new(ReadProgress::default());
    let bar = progress::Bar::start(
        Arc::clone(&progress),
        &c.source,
        progress::wanted(c.output.quiet),
    );
    let mut conns = Vec::new();
    let read =
        headless::stream_with_progress(&c.source, c.analysis, &progress, &mut |x| conns.push(x));
    bar.finish();
    let stats = read?;
    c.select
        .check_ids(stats.connections, &c.source.display())
        .map_err(anyhow::Error::msg)?;
    conns.retain(|conn| c.select.matches(conn));
    let dir = c.out.as_path();
    let (index, done) = crate::export::export(dir, &conns)
        .map_err(|e| anyhow::anyhow!("cannot write to {}: {e}", dir.display()))?;
    let written = done.iter().filter(|e| e.file.is_some()).count();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "wrote {written} of {} response bodies to {} (list: {}/{index})",
        done.len(),
        dir.display(),
        dir.display()
    )?;
    out.flush()?;
    drop(out);
    warn::report(&stats, c.output.strict)
}
