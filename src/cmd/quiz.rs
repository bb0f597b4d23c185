//! `tcpscope quiz`: predict each next packet, in the terminal UI (`ui::quiz`) or, with
//! `--text` or when standard input or output is not a terminal, line by line
//! (`classroom::quiz_lines`).

use crate::classroom;
use crate::cli::config::Quiz;
use crate::ui;
use std::io::{self, IsTerminal};

pub fn run(c: Quiz) -> anyhow::Result<()> {
    if !c.text && io::stdin().is_terminal() && io::stdout().is_terminal() {
        let mut started = false;
        return ui::run_with(
            ui::Options {
                file: c.file,
                present: false,
            },
            &mut |app| ui::quiz::start(app, c.conn, &c.kinds, c.all, &mut started),
        );
    }
    let conns = classroom::select(classroom::load(&c.file)?, Some(c.conn), &c.file)?;
    let mut out = io::stdout().lock();
    classroom::quiz_lines(
        &conns[0],
        &c.kinds,
        c.all,
        c.max,
        &mut io::stdin().lock(),
        &mut out,
    )?;
    Ok(())
}
