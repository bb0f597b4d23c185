//! The run's TLS key log: `--keylog FILE`, else `$SSLKEYLOGFILE`, plus the secrets of a
//! pcapng's Decryption Secrets Blocks. Read once, before any analysis; warnings name
//! line numbers, never a line's content.

use super::{Cli, Command};
use crate::tls::{KeyLog, KeySource, keylog};
use anyhow::Context;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The `--keylog` and capture file of the command, if it takes them.
fn keylog_and_file(cli: &Cli) -> (Option<PathBuf>, Option<String>) {
    match &cli.command {
        None => (cli.keylog.clone(), cli.input.pick(cli.file.as_ref())),
        Some(Command::Open(a)) => (a.keylog.clone(), a.input.pick(a.file.as_ref())),
        Some(Command::Report(a)) => (a.keylog.clone(), a.input.pick(a.files.first())),
        Some(Command::ExportHttp(a)) => (a.keylog.clone(), a.input.pick(a.file.as_ref())),
        Some(Command::Explain(a)) => (a.keylog.clone(), a.input.pick(a.file.as_ref())),
        Some(Command::Diagram(a)) => (a.keylog.clone(), a.input.pick(a.file.as_ref())),
        Some(Command::Quiz(a)) => (a.keylog.clone(), a.input.pick(a.file.as_ref())),
        Some(Command::Live(a)) => (a.keylog.clone(), None),
        Some(Command::Demo(_) | Command::Interfaces | Command::Completions(_) | Command::Man) => {
            (None, None)
        }
    }
}

/// Add a key log file's lines, streaming (a line longer than the limit is counted as
/// garbage without being held). Returns the bytes read.
pub fn read_keylog(k: &mut KeyLog, path: &Path, source: KeySource) -> anyhow::Result<u64> {
    let f = std::fs::File::open(path)
        .with_context(|| format!("--keylog {}: cannot be opened", path.display()))?;
    let mut r = std::io::BufReader::with_capacity(1 << 16, f);
    let mut line = Vec::with_capacity(256);
    let mut long = false;
    let mut total = 0u64;
    loop {
        let buf = r
            .fill_buf()
            .with_context(|| format!("--keylog {}: cannot be read", path.display()))?;
        if buf.is_empty() {
            break;
        }
        let (chunk, nl) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i)),
            None => (buf, None),
        };
        if line.len() + chunk.len() > keylog::MAX_LINE {
            long = true;
        } else if !long {
            line.extend_from_slice(chunk);
        }
        let used = nl.map_or(buf.len(), |i| i + 1);
        r.consume(used);
        total += used as u64;
        if nl.is_some() {
            end_line(k, &mut line, &mut long, source);
        }
    }
    if !line.is_empty() || long {
        end_line(k, &mut line, &mut long, source);
    }
    Ok(total)
}

fn end_line(k: &mut KeyLog, line: &mut Vec<u8>, long: &mut bool, source: KeySource) {
    if *long {
        // Over the limit: counted as a bad line.
        k.add_line(&[b'x'; keylog::MAX_LINE + 1], source);
    } else {
        k.add_line(line, source);
    }
    line.clear();
    *long = false;
}

/// Read the run's secrets and make them every analysis's (`pipeline::Config::default`).
pub fn load(cli: &Cli) -> anyhow::Result<()> {
    if matches!(cli.command, Some(Command::Demo(_))) {
        // The TLS demos bring their own key log (`cmd::demo`).
        return Ok(());
    }
    let live = matches!(cli.command, Some(Command::Live(_)));
    let (flag, file) = keylog_and_file(cli);
    let path = flag.or_else(|| {
        std::env::var_os("SSLKEYLOGFILE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let mut k = KeyLog::new();
    let mut read = 0;
    if let Some(p) = &path {
        read = read_keylog(&mut k, p, KeySource::Keylog)?;
        if let Some(w) = k.warning(&p.display().to_string()) {
            eprintln!("warning: {w}");
        }
    }
    if let Some(f) = file.filter(|f| f != "-") {
        let dsb = crate::capture::dsb::tls_secrets(Path::new(&f));
        if !dsb.is_empty() {
            let mut d = KeyLog::new();
            d.add_text(&dsb, KeySource::Dsb);
            if let Some(w) = d.warning(&format!("{f}: Decryption Secrets Block")) {
                eprintln!("warning: {w}");
            }
            k.add_text(&dsb, KeySource::Dsb);
        }
    }
    if let (true, Some(p)) = (live, &path) {
        // Live: the client appends the secrets of connections that start later.
        let tail = crate::capture::keytail::KeyTail::new(p.clone(), read);
        keylog::set_run_keys(KeyLog::growing(k, Box::new(tail)));
    } else if path.is_some() || !k.is_empty() {
        keylog::set_run_keys(k);
    }
    Ok(())
}
