//! The `tcpscope` binary: parse the command line, build its `Config` once, run the
//! command, turn the result into an exit status. Everything else is in the library
//! (`cli` for the arguments, `cmd` for the commands).

use std::process::ExitCode;
use tcpscope::cli::{self, Config};
use tcpscope::cmd;

fn main() -> ExitCode {
    let cli = match cli::parse(std::env::args_os().collect()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    cmd::exit_code(Config::from_cli(cli).and_then(cmd::run))
}
