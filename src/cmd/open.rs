//! `tcpscope open FILE` (and `tcpscope FILE`): the terminal UI on a capture.

use crate::ui;

pub fn run(c: ui::Options) -> anyhow::Result<()> {
    ui::run(c)
}
