//! `tcpscope export-http`: every decoded HTTP body into a folder, with an index
//! (`export` names and writes the files).

use crate::cli::config::ExportHttp;
use crate::headless;
use std::io::{self, Write};

pub fn run(c: ExportHttp) -> anyhow::Result<()> {
    // Before the capture is read: a wrong -o is known at once.
    if c.out.exists() && !c.out.is_dir() {
        anyhow::bail!(
            "{}: not a folder; give -o a folder to write the bodies into (it is created if missing)",
            c.out.display()
        );
    }
    let (stats, mut conns) = headless::run(&c.source, c.analysis)?;
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
    Ok(out.flush()?)
}
