//! `tcpscope diagram`: a connection's ladder diagram (`report::diagram`).

use crate::classroom;
use crate::cli::config::Diagram;
use crate::report::diagram;
use std::io::{self, Write};

pub fn run(c: Diagram) -> anyhow::Result<()> {
    let conns = classroom::select(classroom::load(&c.file)?, Some(c.conn), &c.file)?;
    let text = diagram::render(&conns[0], c.format, c.options);
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
