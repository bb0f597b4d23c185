//! What the terminal decides for the text outputs: how wide a table may be, and whether
//! it is coloured.

use crate::cli::args::ColorChoice;
use std::io::IsTerminal;

/// Columns the text report fits into: `COLUMNS` when set to a number (also into a pipe,
/// as `ps` does), else the terminal's width when standard output is one; `None` (every
/// column in full) when piped, or with `--wide`.
pub fn report_width(wide: bool) -> Option<usize> {
    if wide {
        return None;
    }
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return Some(n);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    crossterm::terminal::size()
        .ok()
        .map(|(w, _)| usize::from(w))
        .filter(|&w| w > 0)
}

/// Whether standard output gets colour: `always`, or `auto` on a terminal without
/// `NO_COLOR` (set and non-empty: <https://no-color.org>).
pub fn color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stdout().is_terminal() && !no_color(),
    }
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
