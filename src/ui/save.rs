//! `w`: the selected connection's frames written to `tcpscope-conn-N.pcap` in the current
//! folder (never over an existing file: `tcpscope-conn-N-2.pcap`, ...), the status bar
//! saying where. The key only asks (`App::write_pcap`); the runtime writes here, as it
//! reads frame bytes, after `update`.

use crate::capture::Source;
use crate::capture::write::write_frames;
use crate::report::select::FrameMatcher;
use crate::ui::app::App;
use std::fs::OpenOptions;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

/// Carry out a `w` asked for since the last frame: write into `dir`, set the message.
pub fn write_wanted(app: &mut App, source: Option<&Source>, dir: &Path) {
    let Some(i) = app.write_pcap.take() else {
        return;
    };
    // The row is enough (its ends and frames), whole or compact.
    let Some(r) = app.data.as_ref().and_then(|d| d.rows.get(i)) else {
        return;
    };
    let id = r.id;
    let mut m = FrameMatcher::default();
    m.add_span(r.client, r.server, r.first_frame, r.last_frame);
    app.message = Some(match source {
        Some(s @ Source::File(_)) => match write_conn(s, &m, id, dir) {
            Ok((path, frames)) => format!(
                "wrote connection {id} ({frames} frames) to {}",
                path.display()
            ),
            Err(e) => format!("connection {id} not written: {e}"),
        },
        Some(Source::Merged(_)) => {
            "w: the capture is several files merged; open one of them to pick a connection".into()
        }
        Some(Source::Stdin) => {
            "w: standard input cannot be read again; save the capture to a file first".into()
        }
        None => {
            "w: a live capture saves every packet with -w; open that file to pick one connection"
                .into()
        }
    });
}

fn write_conn(
    source: &Source,
    m: &FrameMatcher,
    id: u64,
    dir: &Path,
) -> anyhow::Result<(PathBuf, u64)> {
    let (path, file) = create_numbered(dir, id)?;
    let mut out = BufWriter::new(file);
    match write_frames(source, &mut out, m.last_frame(), &mut |p| m.matches(p)) {
        Ok(w) => Ok((path, w.frames)),
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(&path);
            Err(e.into())
        }
    }
}

/// `tcpscope-conn-N.pcap`, or the first `tcpscope-conn-N-K.pcap` (K = 2, 3, ...) free.
fn create_numbered(dir: &Path, id: u64) -> io::Result<(PathBuf, std::fs::File)> {
    for k in 1..10_000u32 {
        let name = match k {
            1 => format!("tcpscope-conn-{id}.pcap"),
            k => format!("tcpscope-conn-{id}-{k}.pcap"),
        };
        let path = dir.join(name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("10,000 files of that name exist already"))
}
