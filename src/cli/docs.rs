//! `tcpscope completions SHELL` and `tcpscope man`: the command line's own definition
//! (clap's `Command`) written out as a shell completion script or a manual page.

use super::Cli;
use clap::CommandFactory;
use std::io::{self, Write};

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub const COMPLETIONS_HELP: &str = "\
Install (then open a new shell):
  bash:  tcpscope completions bash > ~/.local/share/bash-completion/completions/tcpscope
  zsh:   tcpscope completions zsh > ~/.zfunc/_tcpscope
         (with `fpath=(~/.zfunc $fpath); autoload -U compinit; compinit` in ~/.zshrc)
  fish:  tcpscope completions fish > ~/.config/fish/completions/tcpscope.fish";

pub const MAN_HELP: &str = "\
Read it at once:  tcpscope man | man -l -
Install it:       mkdir -p ~/.local/share/man/man1
                  tcpscope man > ~/.local/share/man/man1/tcpscope.1   (then: man tcpscope)";

/// Write the completion script for `shell` to `out`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "tcpscope", out);
    out.flush()
}

/// Write the manual page to `out`: tcpscope's own page (synopsis, options, the list of
/// commands, exit status), then a section per command with its synopsis and options.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    // NAME reads `tcpscope - TCP and HTTP at the packet level`.
    let mut cmd = Cli::command()
        .disable_help_subcommand(true)
        .about("TCP and HTTP at the packet level");
    cmd.build();
    // No date: the page is the same on every build.
    let page = clap_mangen::Man::new(cmd.clone()).date("");
    let mut top = Vec::new();
    page.render(&mut top)?;
    // The commands are sections of this page, not pages of their own: `tcpscope report`,
    // not `tcpscope-report(1)`.
    let mut text = String::from_utf8_lossy(&top).into_owned();
    for sub in cmd.get_subcommands() {
        let name = sub.get_name().replace('-', "\\-");
        text = text.replace(
            &format!("tcpscope\\-{name}(1)"),
            &format!("\\fBtcpscope {name}\\fR"),
        );
    }
    let mut buf = text.into_bytes();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_command_section(sub, &mut buf)?;
    }
    out.write_all(&buf)?;
    out.flush()
}

/// One command's section: `.SH "TCPSCOPE REPORT"`, what it does, its synopsis and options
/// (clap_mangen's own sections, demoted to subsections).
fn write_command_section(sub: &clap::Command, buf: &mut Vec<u8>) -> io::Result<()> {
    let title = format!("TCPSCOPE {}", sub.get_name().to_uppercase());
    writeln!(buf, ".SH \"{title}\"")?;
    let man = clap_mangen::Man::new(sub.clone());
    let mut part = Vec::new();
    man.render_description_section(&mut part)?;
    man.render_synopsis_section(&mut part)?;
    if sub.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut part)?;
    }
    let text = String::from_utf8_lossy(&part);
    for line in text.lines() {
        match line.strip_prefix(".SH ") {
            // The description needs no heading of its own under the command's.
            Some("DESCRIPTION") => {}
            Some(h) => writeln!(buf, ".SS {}", title_case(h.trim_matches('"')))?,
            None => writeln!(buf, "{line}")?,
        }
    }
    Ok(())
}

/// `OPTIONS` -> `Options`.
fn title_case(h: &str) -> String {
    let lower = h.to_lowercase();
    let mut c = lower.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
