//! `tcpscope export-http`: every decoded HTTP body into a folder, with an index
//! (`export` names and writes the files).

use crate::cli::config::ExportHttp;
use crate::headless;
use std::io::{self, Write};

pub fn run(c: ExportHttp) -> anyhow::Result<()> {
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
