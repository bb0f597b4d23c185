//! `tcpscope export-http`: every decoded HTTP body into a folder, with an index
//! (`export` names and writes the files).

use super::{progress, warn};
use crate::cli::config::ExportHttp;
use crate::export::spool::Spool;
use crate::headless;
use crate::http::Spill;
use crate::parallel::ReadProgress;
use std::io::{self, Write};
use std::sync::Arc;

pub fn run(mut c: ExportHttp) -> anyhow::Result<()> {
    // Before the capture is read: a wrong -o is known at once.
    if c.out.exists() && !c.out.is_dir() {
        anyhow::bail!(
            "{}: not a folder; give -o a folder to write the bodies into (it is created if missing)",
            c.out.display()
        );
    }
    let dir = c.out.as_path();
    let cannot = |e: std::io::Error| anyhow::anyhow!("cannot write to {}: {e}", dir.display());
    // Bodies stream into the folder as they are decoded (held bytes: one budget).
    std::fs::create_dir_all(dir).map_err(cannot)?;
    let spool = Spool::new(dir);
    if let Some(h) = c.analysis.http.as_mut() {
        h.spill = Some(Spill(Arc::new(Arc::clone(&spool))));
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
    let stats = match read {
        Ok(s) => s,
        Err(e) => {
            let _ = spool.close();
            return Err(e.into());
        }
    };
    if let Err(e) = c.select.check_ids(stats.connections, &c.source.label()) {
        let _ = spool.close();
        anyhow::bail!(e);
    }
    // Bodies of connections not selected are left in the spool, removed as it closes.
    conns.retain(|conn| c.select.matches(conn));
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
    out.flush()?;
    drop(out);
    warn::report(&stats, c.output.strict)
}
