//! The `tcpscope` binary: parse the command line, build its `Config` once, run the
//! command, turn the result into an exit status. Everything else is in the library
//! (`cli` for the arguments, `cmd` for the commands).

use clap::Parser;
use std::process::ExitCode;
use tcpscope::cli::{self, Cli, Config};
use tcpscope::cmd;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return cli::clap_exit(&e),
    };
    cmd::exit_code(Config::from_cli(cli).and_then(cmd::run))
}
