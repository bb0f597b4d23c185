//! `export-http`: write each decoded HTTP response body to a file, like Wireshark's
//! Export Objects. File names come from the URI, made safe: one path component, no
//! `..`, no leading dot, no control characters, never an absolute path, never
//! overwriting a file (a numbered suffix is added). `index.tsv` lists every exchange.
//!
//! While the capture is read, bodies stream into part files ([`spool`]); here each part
//! gets its final name, in connection order. A body longer than `--max-body` is listed
//! with its size and SHA-256 and not written; a decompression bomb is written up to the
//! cap where decoding stopped, and flagged ("decompression bomb: stopped at N bytes").

pub mod spool;

use crate::http::{Exchange, Response};
use crate::pipeline::Connection;
use spool::Spool;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;

/// What was written for one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub conn: u64,
    pub exchange: usize,
    /// File name inside the output folder, or None when the body could not be exported.
    pub file: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    /// Why nothing was written, when nothing was.
    pub note: String,
}

/// The last path segment of a URI (query and fragment dropped), as a safe file name.
pub fn safe_name(uri: &str, status: u16) -> String {
    let path = uri.split(['?', '#']).next().unwrap_or("");
    // Absolute-form URIs: drop the scheme and authority.
    let path = match path.find("://") {
        Some(i) => path[i + 3..].find('/').map_or("", |j| &path[i + 3 + j..]),
        None => path,
    };
    let last = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
    let decoded = percent_decode(last);
    let mut out: String = decoded
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // No hidden files, no "." or "..", nothing empty.
    while out.starts_with('.') {
        out.remove(0);
    }
    if out.is_empty() {
        out = if status == 0 {
            "body".to_string()
        } else {
            "index".to_string()
        };
    }
    out.truncate(120);
    // Windows ignores trailing dots, and gives device names (CON, NUL.txt, com1.json, any
    // case, any extension) to devices, not files: such a name gets a leading underscore.
    while out.ends_with('.') {
        out.pop();
        out.push('_');
    }
    if windows_reserved(&out) {
        out.insert(0, '_');
    }
    out
}

/// `CON`, `PRN`, `AUX`, `NUL`, `COM0`..`COM9`, `LPT0`..`LPT9`, in any case, alone or
/// before an extension: names Windows keeps for devices.
fn windows_reserved(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Create `dir/name`, or `dir/name-1.ext`, `-2` ... if taken. Never follows or
/// replaces an existing file (create_new).
fn create_unique(dir: &Path, name: &str) -> io::Result<(String, std::fs::File)> {
    create_unique_from(dir, name, &mut Default::default())
}

/// [`create_unique`], starting at the suffix `next` remembers for `name` (and updating
/// it): 10,000 bodies named `x` cost 10,000 tries, not 50 million.
fn create_unique_from(
    dir: &Path,
    name: &str,
    next: &mut std::collections::HashMap<String, u64>,
) -> io::Result<(String, std::fs::File)> {
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let from = next.get(name).copied().unwrap_or(0);
    for n in from..from.saturating_add(10_000) {
        let candidate = if n == 0 {
            name.to_string()
        } else {
            format!("{stem}-{n}{ext}")
        };
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(&candidate))
        {
            Ok(f) => {
                next.insert(name.to_string(), n + 1);
                return Ok((candidate, f));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!("no free file name for {name}")))
}

fn export_one(
    dir: &Path,
    (conn, i): (u64, usize),
    x: &Exchange,
    next: &mut std::collections::HashMap<String, u64>,
    spool: Option<&Spool>,
) -> io::Result<Option<Exported>> {
    let Some(r) = x.response.as_ref() else {
        return Ok(None);
    };
    let part = r.body_spill.and_then(|t| spool.and_then(|s| s.take(t)));
    let uri = x.request.as_ref().map_or("", |q| q.uri.as_str());
    let mut e = Exported {
        conn,
        exchange: i + 1,
        file: None,
        content_type: crate::http::header(&r.headers, "content-type")
            .unwrap_or("")
            .to_string(),
        size: r.body_bytes_decoded,
        sha256: r.body_sha256.clone().unwrap_or_default(),
        note: String::new(),
    };
    if r.body_bytes_decoded == 0 {
        if let Some(p) = part {
            spool::remove(p.path.as_deref());
        }
        return Ok(None);
    }
    let name = || safe_name(uri, r.status);
    match part {
        Some(p) => place_part(dir, &mut e, p, name, next)?,
        None => write_kept(dir, &mut e, r, name, next)?,
    }
    Ok(Some(e))
}

/// A body kept in memory (no spool): written whole, or noted.
fn write_kept(
    dir: &Path,
    e: &mut Exported,
    r: &Response,
    name: impl Fn() -> String,
    next: &mut std::collections::HashMap<String, u64>,
) -> io::Result<()> {
    match (&r.body, r.body_sha256.is_some(), r.body_truncated) {
        (Some(body), true, false) => {
            let (name, mut f) = create_unique_from(dir, &name(), next)?;
            f.write_all(body)?;
            e.file = Some(name);
        }
        (_, _, true) => e.note = NOTE_TOO_LONG.into(),
        _ => e.note = NOTE_INCOMPLETE.into(),
    }
    Ok(())
}

const NOTE_TOO_LONG: &str = "body larger than --max-body: hashed, not kept";
const NOTE_INCOMPLETE: &str = "body incomplete in the capture";

/// A body streamed to a part file: renamed to its final name when it is to be written
/// (whole, or a bomb up to where decoding stopped), removed otherwise.
fn place_part(
    dir: &Path,
    e: &mut Exported,
    p: spool::Part,
    name: impl Fn() -> String,
    next: &mut std::collections::HashMap<String, u64>,
) -> io::Result<()> {
    let keep = if p.end.bomb {
        e.note = format!("decompression bomb: stopped at {} bytes", p.end.decoded);
        if p.len < p.end.decoded {
            e.note += &format!(" (first {} written: --max-body)", p.len);
        }
        // The hash column tells what the file holds.
        e.sha256 = p.sha256.clone();
        e.size = p.len;
        true
    } else if p.end.truncated {
        e.note = NOTE_TOO_LONG.into();
        false
    } else if !p.end.whole {
        e.note = NOTE_INCOMPLETE.into();
        false
    } else {
        true
    };
    match (keep, p.path) {
        (true, Some(from)) => {
            // Reserve the name (never replacing anything), then move the part onto it.
            let (name, _) = create_unique_from(dir, &name(), next)?;
            std::fs::rename(&from, dir.join(&name))?;
            e.file = Some(name);
        }
        (_, path) => spool::remove(path.as_deref()),
    }
    Ok(())
}

/// Write the bodies of `conns` into `dir` (created if missing) and an index; returns the
/// index's file name (`index.tsv`, or `index-N.tsv` when taken) and what was exported.
pub fn export(dir: &Path, conns: &[Connection]) -> io::Result<(String, Vec<Exported>)> {
    export_spooled(dir, conns, None)
}

/// [`export`], with the bodies the analysis streamed into `spool` (its leftover parts
/// removed at the end).
pub fn export_spooled(
    dir: &Path,
    conns: &[Connection],
    spool: Option<&Spool>,
) -> io::Result<(String, Vec<Exported>)> {
    let res = export_all(dir, conns, spool);
    let closed = spool.map_or(Ok(()), Spool::close);
    let res = res?;
    closed?;
    Ok(res)
}

fn export_all(
    dir: &Path,
    conns: &[Connection],
    spool: Option<&Spool>,
) -> io::Result<(String, Vec<Exported>)> {
    std::fs::create_dir_all(dir)?;
    // The index's name first: a captured `GET /index.tsv` must not take it.
    let (index_name, mut idx) = create_unique(dir, "index.tsv")?;
    let mut all = Vec::new();
    let mut next = Default::default();
    for c in conns {
        for (i, x) in c.http.iter().enumerate() {
            if let Some(e) = export_one(dir, (c.id, i), x, &mut next, spool)? {
                all.push(e);
            }
        }
    }
    writeln!(
        idx,
        "conn\texchange\tfile\tcontent_type\tsize\tsha256\tnote"
    )?;
    for e in &all {
        writeln!(
            idx,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            e.conn,
            e.exchange,
            e.file.as_deref().unwrap_or("-"),
            clean(&e.content_type),
            e.size,
            e.sha256,
            e.note
        )?;
    }
    Ok((index_name, all))
}

/// Text from a capture in the index: tabs, line breaks, control and bidi characters shown
/// escaped, so they cannot break the columns or the terminal that shows the file.
fn clean(s: &str) -> String {
    crate::escape::escape(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_safe_component() {
        assert_eq!(safe_name("/a/b/logo.png?x=1", 200), "logo.png");
        assert_eq!(safe_name("/../../etc/passwd", 200), "passwd");
        assert_eq!(safe_name("/%2e%2e%2fetc%2fpasswd", 200), "_etc_passwd");
        assert_eq!(safe_name("/..", 200), "index");
        assert_eq!(safe_name("/", 200), "index");
        assert_eq!(safe_name("http://example.test/dir/f.js", 200), "f.js");
        assert_eq!(safe_name("/a\u{1b}[2Jb", 200), "a__2Jb");
        assert_eq!(safe_name("/.bashrc", 200), "bashrc");
        assert!(!safe_name("/C:\\windows\\x", 200).contains('\\'));
    }

    #[test]
    fn windows_device_names_are_never_written_as_they_are() {
        for (uri, want) in [
            ("/CON", "_CON"),
            ("/a/NUL.txt", "_NUL.txt"),
            ("/aux", "_aux"),
            ("/COM1.json", "_COM1.json"),
            ("/lpt9.tar.gz", "_lpt9.tar.gz"),
            ("/Prn.", "Prn_"),
            ("/x.", "x_"),
            ("/console", "console"),
            ("/COM10", "COM10"),
            ("/nul_x", "nul_x"),
        ] {
            assert_eq!(safe_name(uri, 200), want, "{uri}");
        }
    }

    #[test]
    fn never_overwrites() {
        let dir = std::env::temp_dir().join(format!("tcpscope-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.txt"), b"keep").unwrap();
        let (n1, _) = create_unique(&dir, "a.txt").unwrap();
        let (n2, _) = create_unique(&dir, "a.txt").unwrap();
        assert_eq!((n1.as_str(), n2.as_str()), ("a-1.txt", "a-2.txt"));
        assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"keep");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// An existing index.tsv is not overwritten, and the name used is the one returned.
    #[test]
    fn index_name_is_reserved_and_reported() {
        let dir = std::env::temp_dir().join(format!("tcpscope-export-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.tsv"), b"someone else's").unwrap();
        let (name, done) = export(&dir, &[]).unwrap();
        assert_eq!(name, "index-1.tsv");
        assert!(done.is_empty());
        assert!(
            std::fs::read_to_string(dir.join(&name))
                .unwrap()
                .starts_with("conn\t")
        );
        assert_eq!(
            std::fs::read(dir.join("index.tsv")).unwrap(),
            b"someone else's"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn index_fields_are_escaped() {
        assert_eq!(clean("text/html\tx\u{202e}"), "text/html\\tx\\u{202E}");
    }
}
