//! `tcpscope export-http`: every decoded HTTP body into a folder, with an index
//! (`export` names and writes the files).

use crate::cli::config::ExportHttp;
use crate::export::spool::Spool;
use crate::headless;
use crate::http::Spill;
use std::io::{self, Write};
use std::sync::Arc;

pub fn run(mut c: ExportHttp) -> anyhow::Result<()> {
    let dir = c.out.as_path();
    let cannot = |e: std::io::Error| anyhow::anyhow!("cannot write to {}: {e}", dir.display());
    // Bodies stream into the folder as they are decoded (held bytes: one budget).
    std::fs::create_dir_all(dir).map_err(cannot)?;
    let spool = Spool::new(dir);
    if let Some(h) = c.analysis.http.as_mut() {
        h.spill = Some(Spill(Arc::new(Arc::clone(&spool))));
    }
    let run = headless::run(&c.source, c.analysis);
    let (_, conns) = match run {
        Ok(r) => r,
        Err(e) => {
            let _ = spool.close();
            return Err(e.into());
        }
    };
    let (index, done) = crate::export::export_spooled(dir, &conns, Some(&spool)).map_err(cannot)?;
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
