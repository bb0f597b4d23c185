//! The command word, read before clap reads the rest: `tcpscope WORD ...` where WORD may
//! be a command or a capture file (`tcpscope FILE` opens the terminal UI).
//!
//! The rule (also in `tcpscope --help` and the README):
//! - `-` and any path that exists are files; so is anything after `--`
//!   (`tcpscope -- report` opens a file named `report`).
//! - A command name is the command, except when it is the only argument, the command
//!   needs a capture file, and a file of that name exists: `tcpscope report` beside a
//!   file named `report` opens that file (`tcpscope report` alone is otherwise a usage
//!   error). `tcpscope ./report` always opens the file.
//! - A word that names no file and is close to a command name (and has no `.` or `/`,
//!   which only paths have) is a mistyped command: `unknown command 'reprot' (did you
//!   mean 'report'?)`, exit 2. A word with more words after it that names neither a
//!   file nor a command is an unknown command too.
//! - Anything else is a capture file, which the terminal UI reports missing (exit 1).

use std::ffi::OsString;
use std::path::Path;

/// A command word that is neither a command nor a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCommand {
    pub word: String,
    /// The closest command name, if one is close enough.
    pub suggestion: Option<String>,
    /// Every command name, for the message when there is no suggestion.
    pub commands: Vec<String>,
}

impl std::fmt::Display for UnknownCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.suggestion {
            Some(s) => write!(
                f,
                "unknown command '{}' (did you mean '{s}'?); `tcpscope --help` lists the commands",
                self.word
            ),
            None => write!(
                f,
                "unknown command '{}', and no file of that name; the commands are {}",
                self.word,
                self.commands.join(", ")
            ),
        }
    }
}

/// How close (Jaro similarity, as clap's own suggestions) a word must be to a command
/// name to be taken for a mistyped command.
const CLOSE: f64 = 0.8;

/// The arguments clap should parse, given `cmd` (the whole command line's definition) and
/// `args` (program name first); or why the command word is wrong. `exists` says whether
/// a path exists (the file system, or a test's stand-in); `is_file`, whether it is a
/// regular file.
pub fn resolve(
    cmd: &clap::Command,
    mut args: Vec<OsString>,
    exists: &dyn Fn(&Path) -> bool,
    is_file: &dyn Fn(&Path) -> bool,
) -> Result<Vec<OsString>, UnknownCommand> {
    let Some(at) = word_index(cmd, &args) else {
        return Ok(args);
    };
    let Some(word) = args[at].to_str().map(str::to_string) else {
        return Ok(args);
    };
    let names = command_names(cmd);
    if let Some(sub) = cmd.find_subcommand(&word) {
        if at + 1 == args.len() && needs_file(sub) && is_file(Path::new(&word)) {
            // `tcpscope report` beside a file named `report`: open the file.
            args.insert(at, OsString::from("--"));
        }
        return Ok(args);
    }
    if word == "-" || exists(Path::new(&word)) {
        return Ok(args);
    }
    let path_like = word.contains(['.', '/', std::path::MAIN_SEPARATOR]);
    if path_like {
        return Ok(args);
    }
    let suggestion = closest(&word, &names);
    let more_words = args[at + 1..]
        .iter()
        .any(|a| a.to_str().is_none_or(|s| !s.starts_with('-') || s == "-"));
    if suggestion.is_some() || more_words {
        return Err(UnknownCommand {
            word,
            suggestion,
            commands: names,
        });
    }
    Ok(args)
}

/// Where the first word that is not an option (nor an option's value) is, before any
/// `--`.
fn word_index(cmd: &clap::Command, args: &[OsString]) -> Option<usize> {
    let mut i = 1;
    while i < args.len() {
        let a = args[i].to_str()?;
        if a == "--" {
            return None;
        }
        if let Some(long) = a.strip_prefix("--") {
            let takes = !long.contains('=') && takes_value(cmd, |arg| arg.get_long() == Some(long));
            i += if takes { 2 } else { 1 };
        } else if a.len() > 1 && a.starts_with('-') {
            let short = a[1..].chars().next();
            let takes = a.chars().count() == 2
                && takes_value(cmd, |arg| {
                    arg.get_short().is_some() && arg.get_short() == short
                });
            i += if takes { 2 } else { 1 };
        } else {
            return Some(i);
        }
    }
    None
}

/// Whether the top-level option `is` matches takes a value.
fn takes_value(cmd: &clap::Command, is: impl Fn(&clap::Arg) -> bool) -> bool {
    cmd.get_arguments()
        .filter(|a| !a.is_positional())
        .find(|a| is(a))
        .is_some_and(|a| a.get_action().takes_values())
}

/// Whether a command needs a capture file (a required positional argument).
fn needs_file(sub: &clap::Command) -> bool {
    // The capture argument: FILE (or FILES), required unless `-r` names it.
    sub.get_arguments()
        .any(|a| a.is_positional() && matches!(a.get_id().as_str(), "file" | "files"))
}

/// Every command name (with aliases), and `help`, which clap adds.
fn command_names(cmd: &clap::Command) -> Vec<String> {
    let mut v: Vec<String> = cmd
        .get_subcommands()
        .flat_map(|s| std::iter::once(s.get_name()).chain(s.get_all_aliases()))
        .map(str::to_string)
        .collect();
    if !v.iter().any(|n| n == "help") {
        v.push("help".into());
    }
    v
}

/// The command name closest to `word`, if close enough.
fn closest(word: &str, names: &[String]) -> Option<String> {
    names
        .iter()
        .map(|n| (strsim::jaro(word, n), n))
        .filter(|(score, _)| *score > CLOSE)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn run(args: &[&str], files: &[&str]) -> Result<Vec<String>, UnknownCommand> {
        let cmd = crate::cli::Cli::command();
        let args = std::iter::once("tcpscope")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        let has = |p: &Path| files.iter().any(|f| Path::new(f) == p);
        resolve(&cmd, args, &has, &has)
            .map(|v| v.into_iter().map(|a| a.into_string().unwrap()).collect())
    }

    fn suggested(args: &[&str]) -> Option<String> {
        run(args, &[]).unwrap_err().suggestion
    }

    #[test]
    fn a_mistyped_command_is_named_with_the_closest_command() {
        assert_eq!(suggested(&["reprot", "x.pcap"]).as_deref(), Some("report"));
        assert_eq!(suggested(&["reprot"]).as_deref(), Some("report"));
        assert_eq!(
            suggested(&["explian", "x.pcap"]).as_deref(),
            Some("explain")
        );
        assert_eq!(
            suggested(&["diagarm", "x.pcap"]).as_deref(),
            Some("diagram")
        );
        assert_eq!(
            suggested(&["--present", "opne", "x"]).as_deref(),
            Some("open")
        );
        assert_eq!(
            suggested(&["--keylog", "k", "quz", "x"]).as_deref(),
            Some("quiz")
        );
        let e = run(&["reprot", "x.pcap"], &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown command 'reprot' (did you mean 'report'?); `tcpscope --help` lists the commands"
        );
    }

    #[test]
    fn an_unknown_word_before_more_words_is_an_unknown_command() {
        let e = run(&["zzz", "x.pcap"], &[]).unwrap_err();
        assert_eq!(e.suggestion, None);
        assert!(
            e.to_string()
                .starts_with("unknown command 'zzz', and no file of that name; the commands are report, export-http, open,"),
            "{e}"
        );
    }

    #[test]
    fn files_stay_files() {
        let same = |args: &[&str], files: &[&str]| {
            let got = run(args, files).unwrap();
            assert_eq!(got[1..], *args, "{args:?}");
        };
        // An existing file, even one that looks like a mistyped command.
        same(&["reprot"], &["reprot"]);
        same(&["reprot", "x"], &["reprot"]);
        // Paths, existing or not: a missing one is reported by the UI.
        same(&["nosuchfile.pcap"], &[]);
        same(&["./reprot"], &[]);
        same(&["-"], &[]);
        same(&["--", "report"], &[]);
        // Not close to any command, alone: a missing capture file.
        same(&["zzz"], &[]);
        same(&["zzz", "--present"], &[]);
        // Commands.
        same(&["report", "x.pcap"], &["report", "x.pcap"]);
        same(&["report"], &[]);
        same(&["interfaces"], &["interfaces"]);
        same(&["--help"], &[]);
        same(&[], &[]);
    }

    #[test]
    fn a_command_name_alone_beside_a_file_of_that_name_opens_the_file() {
        assert_eq!(
            run(&["report"], &["report"]).unwrap(),
            ["tcpscope", "--", "report"]
        );
        assert_eq!(
            run(&["--present", "quiz"], &["quiz"]).unwrap(),
            ["tcpscope", "--present", "--", "quiz"]
        );
        // A command that needs no file stays the command.
        assert_eq!(
            run(&["interfaces"], &["interfaces"]).unwrap(),
            ["tcpscope", "interfaces"]
        );
    }
}
