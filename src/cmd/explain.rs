//! `tcpscope explain`: a connection's story in plain language (`explain::narrative`).

use crate::classroom;
use crate::cli::config::Explain;
use crate::explain::narrative;
use std::io::{self, Write};

pub fn run(c: Explain) -> anyhow::Result<()> {
    let conns = classroom::select_by(classroom::load(&c.file)?, &c.select, &c.file)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    for (k, conn) in conns.iter().enumerate() {
        if k > 0 {
            out.write_all(b"\n")?;
        }
        out.write_all(narrative::render(conn, c.style).as_bytes())?;
    }
    out.flush()?;
    Ok(())
}
