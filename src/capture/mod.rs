//! Reading packets: the only module that imports `pcap`.
//!
//! Files (pcap, pcapng, `-` for standard input) are read through libpcap with nanosecond
//! precision. libpcap 1.10 refuses pcapng files whose interfaces have different link types;
//! for those the file is read again with the pure-Rust `pcap-parser` reader, skipping the
//! packets libpcap already delivered, so frame numbers stay those of the file.
//! Nothing here interprets packet bytes: that is `decode`'s job.

mod block;
mod classic;
pub mod dsb;
mod fallback;
pub mod input;
pub mod keytail;
pub mod live;
mod merge;
pub mod random;
pub mod spool;
pub mod unpack;
pub mod write;

pub use block::{Block, prefetch};

use crate::ts::Ts;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// One captured frame, borrowed from the reader for the duration of a callback.
#[derive(Clone, Copy, Debug)]
pub struct RawPacket<'a> {
    /// Frame number, counting from 1 in file order (as Wireshark does).
    pub index: u64,
    pub ts: Ts,
    /// LINKTYPE_ value (as written in the file, not libpcap's DLT remapping).
    pub linktype: u32,
    /// Length of the frame on the wire; `data.len()` is what was captured.
    pub orig_len: u32,
    pub data: &'a [u8],
}

/// Where packets come from.
#[derive(Clone, Debug)]
pub enum Source {
    File(PathBuf),
    Stdin,
    /// Several files merged by timestamp into one stream, as `mergecap` writes them:
    /// frames are numbered in merged order (those of `mergecap -w` of the same files).
    Merged(Vec<Source>),
}

impl Source {
    pub fn from_arg(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::File(PathBuf::from(arg))
        }
    }

    /// The source as given: its path, or `-` (the report's `file` field).
    pub fn display(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "-".to_string(),
            Source::Merged(all) => all
                .iter()
                .map(Source::display)
                .collect::<Vec<_>>()
                .join(" + "),
        }
    }

    /// The source as messages name it: its path, or `standard input`.
    pub fn label(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "standard input".to_string(),
            Source::Merged(all) => all
                .iter()
                .map(Source::label)
                .collect::<Vec<_>>()
                .join(" + "),
        }
    }
}

/// How an argument names its capture in messages: the path, or `standard input` for `-`.
pub fn label(arg: &str) -> String {
    Source::from_arg(arg).label()
}

/// Why a capture could not be read at all. Problems after the first packet are warnings.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{file}: no such file; check the path")]
    NotFound { file: String },
    #[error("{file}: permission denied; check the file's permissions or run with access to it")]
    PermissionDenied { file: String },
    #[error("{file}: is a directory; give a .pcap or .pcapng file")]
    IsDirectory { file: String },
    #[error(
        "{file}: not a pcap or pcapng capture ({detail}); record one with `tcpdump -w FILE` or convert it with `editcap -F pcap`"
    )]
    NotACapture { file: String, detail: String },
    #[error("{file}: empty file (0 bytes): not a capture; give a pcap or pcapng file")]
    Empty { file: String },
    #[error(
        "standard input: empty (0 bytes): not a capture; pipe one in, e.g. `tcpdump -w - | tcpscope report -`"
    )]
    EmptyInput,
    #[error("{file}: {format}-compressed: decompress it first ({tool})")]
    Compressed {
        file: String,
        format: &'static str,
        tool: &'static str,
    },
    #[error("{file}: cannot be read: {detail}")]
    Unreadable { file: String, detail: String },
    /// The read filter (`-f`) libpcap refused, with a caret under where it points.
    #[error(
        "{}bad read filter{}: {message}\n  {filter}\n  {marker}\nsee `man pcap-filter` for the syntax (e.g. `tcp port 80 and host 10.0.0.1`)",
        if file.is_empty() { String::new() } else { format!("{file}: ") },
        if linktype.is_empty() { String::new() } else { format!(" for its link type {linktype}") }
    )]
    BadFilter {
        file: String,
        linktype: String,
        filter: String,
        message: String,
        marker: String,
    },
}

/// What reading a source produced besides packets.
#[derive(Debug, Default, Clone)]
pub struct ReadSummary {
    pub packets: u64,
    /// Problems that did not stop reading (e.g. a file cut in the middle of a record).
    pub warnings: Vec<String>,
    /// Which reader produced the packets ("libpcap" or "pcap-parser").
    pub reader: &'static str,
    /// Packets the read filter (`-f`) left out: read, counted, not handed out.
    pub filtered_out: u64,
}

/// Map libpcap's DLT numbers back to LINKTYPE values. libpcap on Linux reports raw-IP files
/// as DLT_RAW 12 or 14 (LINKTYPE_RAW is 101 in the file).
pub fn dlt_to_linktype(dlt: i32) -> u32 {
    match dlt {
        12 | 14 => 101,
        other => other as u32,
    }
}

/// Read every packet of `source`, calling `f` for each; `f` may stop early with `Break`.
pub fn read_source(
    source: &Source,
    mut f: impl FnMut(&RawPacket<'_>) -> ControlFlow<()>,
) -> Result<ReadSummary, CaptureError> {
    read_source_shared(source, |p, _| f(p))
}

/// [`read_source`], also handing `f` the [`Block`] the packet's bytes lie in when there is
/// one (classic pcap files): whoever keeps a clone of it may keep the packet's bytes past
/// the call without copying them ([`Block::offset_of`] says where they are).
///
/// Every reader goes through here: the read filter and packet count of the command
/// ([`input::current`]) are applied here, so all readers of a source see the same packets.
pub fn read_source_shared(
    source: &Source,
    mut f: impl FnMut(&RawPacket<'_>, Option<&Block>) -> ControlFlow<()>,
) -> Result<ReadSummary, CaptureError> {
    let settings = input::current();
    let mut gate = input::Gate::new(&settings, &source.label());
    if gate.is_open() {
        return read_any(source, &mut f);
    }
    let mut summary = read_any(source, &mut |p, b| match gate.admit(p) {
        input::Verdict::Pass => match f(p, b) {
            // The count reached: stop here, not at the next packet (nothing more read).
            ControlFlow::Continue(()) if gate.full() => ControlFlow::Break(()),
            r => r,
        },
        input::Verdict::Skip => ControlFlow::Continue(()),
        input::Verdict::Stop => ControlFlow::Break(()),
    })?;
    if let Some(e) = gate.error.take() {
        return Err(e);
    }
    summary.filtered_out = gate.filtered_out;
    Ok(summary)
}

/// Every packet of `source`, as the file holds them.
fn read_any(source: &Source, f: &mut classic::Handler<'_>) -> Result<ReadSummary, CaptureError> {
    let name = source.label();
    let p = match source {
        Source::File(p) => p,
        Source::Stdin => return read_stream(Box::new(std::io::stdin()), &name, None, f),
        Source::Merged(all) => return merge::read(all, f),
    };
    let spool = spool::spool_state(p);
    // A spool of standard input may still be empty, its first bytes on their way.
    if spool.is_none() {
        precheck(p, &name)?;
    }
    // A spool holds decompressed bytes, and may still be empty: it is never sniffed.
    if spool.is_none()
        && let Some(codec) = sniff_file(p, &name)?
    {
        let open = || open_file(p, &name);
        let reopen = |skip: u64, f: &mut dyn FnMut(&RawPacket<'_>) -> ControlFlow<()>| {
            let cut = unpack::Cut::default();
            let r = unpack::decoder(codec, open()?, cut);
            fallback::read_pcapng_from(r, &name, skip, f)
        };
        return read_stream(Box::new(open()?), &name, Some(&reopen), f);
    }
    let mut summary = match classic::read(p, &name, f)? {
        Some(s) => s,
        // A spool of standard input may still be growing, which libpcap cannot follow.
        None if spool.is_some() => fallback::read_pcapng(p, &name, 0, &mut |p| f(p, None))?,
        None => return read_with_libpcap(source, &name, |p| f(p, None)),
    };
    // Copying standard input failed (disk full, read error): say the input was cut.
    if let Some(e) = spool.and_then(|s| s.error()) {
        summary
            .warnings
            .push(format!("standard input was cut short: {e}"));
    }
    Ok(summary)
}

fn open_file(p: &Path, name: &str) -> Result<std::fs::File, CaptureError> {
    std::fs::File::open(p).map_err(|e| CaptureError::Unreadable {
        file: name.to_string(),
        detail: e.to_string(),
    })
}

/// The compression of a file, from its first bytes.
fn sniff_file(p: &Path, name: &str) -> Result<Option<unpack::Codec>, CaptureError> {
    let (head, _) = unpack::peek(open_file(p, name)?).map_err(|e| CaptureError::Unreadable {
        file: name.to_string(),
        detail: e.to_string(),
    })?;
    Ok(unpack::Codec::sniff(&head))
}

/// Read again from the start, skipping what libpcap delivered, with the built-in pcapng
/// reader (a pcapng file whose interfaces differ in link type); None when the input
/// cannot be read twice.
type Reopen<'a> = dyn Fn(u64, &mut dyn FnMut(&RawPacket<'_>) -> ControlFlow<()>) -> Result<ReadSummary, CaptureError>
    + 'a;

/// A capture arriving as a stream (standard input, a decompressed file), compressed or
/// not: classic pcap is read by the built-in reader, anything else by libpcap through a
/// pipe (so pcapng, and the error for what is no capture, are libpcap's as for a file).
fn read_stream(
    r: Box<dyn std::io::Read + Send>,
    name: &str,
    reopen: Option<&Reopen<'_>>,
    f: &mut classic::Handler<'_>,
) -> Result<ReadSummary, CaptureError> {
    let io_err = |e: std::io::Error| CaptureError::Unreadable {
        file: name.to_string(),
        detail: e.to_string(),
    };
    let (head, r) = unpack::peek(r).map_err(io_err)?;
    let cut = unpack::Cut::default();
    let r: Box<dyn std::io::Read + Send> = match unpack::Codec::sniff(&head) {
        Some(c) => unpack::decoder(c, r, cut.clone()),
        None => Box::new(r),
    };
    let (head, r) = unpack::peek(r).map_err(io_err)?;
    let classic = head.len() >= 4
        && matches!(
            u32::from_le_bytes([head[0], head[1], head[2], head[3]]),
            0xa1b2_c3d4 | 0xa1b2_3c4d | 0xd4c3_b2a1 | 0x4d3c_b2a1
        );
    let mut summary = if classic {
        match classic::read_stream(Box::new(r), name, f)? {
            Some(s) => s,
            None => {
                return Err(CaptureError::NotACapture {
                    file: name.to_string(),
                    detail: "a pcap header cut short or of an unknown version".into(),
                });
            }
        }
    } else {
        via_pipe(Box::new(r), name, reopen, &mut |p| f(p, None))?
    };
    // Why the bytes ended first: the reader's complaint about a cut record follows from it.
    if let Some(w) = unpack::cut_warning(&cut) {
        summary.warnings.insert(0, w);
    }
    Ok(summary)
}

/// libpcap reading a stream: the bytes are copied into a pipe on a thread, and libpcap
/// opens the pipe by its `/dev/fd` name.
fn via_pipe(
    mut r: Box<dyn std::io::Read + Send>,
    name: &str,
    reopen: Option<&Reopen<'_>>,
    f: &mut dyn FnMut(&RawPacket<'_>) -> ControlFlow<()>,
) -> Result<ReadSummary, CaptureError> {
    use std::os::fd::AsRawFd;
    let unreadable = |e: std::io::Error| CaptureError::Unreadable {
        file: name.to_string(),
        detail: e.to_string(),
    };
    let (rx, mut tx) = std::io::pipe().map_err(unreadable)?;
    std::thread::Builder::new()
        .name("tcpscope-pipe".into())
        .spawn(move || {
            // Ends at the input's end, or when libpcap stopped reading (broken pipe).
            let _ = std::io::copy(&mut r, &mut tx);
        })
        .map_err(unreadable)?;
    let path = PathBuf::from(format!("/dev/fd/{}", rx.as_raw_fd()));
    let cap = pcap::Capture::from_file_with_precision(&path, pcap::Precision::Nano);
    // libpcap has its own descriptor now: with ours closed, the copy ends when it stops.
    drop(rx);
    match cap {
        Ok(cap) => libpcap_loop(cap, f, reopen),
        Err(e) => {
            let detail = e.to_string();
            match reopen {
                Some(again) if is_mixed_linktype_error(&detail) => again(0, f),
                // Only standard input comes without a way to read it again.
                _ => Err(open_error(name, &detail, reopen.is_none())),
            }
        }
    }
}

/// Read with libpcap (pcapng and standard input; classic files too when called directly,
/// which the tests do to check the fast path against it).
pub fn read_with_libpcap(
    source: &Source,
    name: &str,
    mut f: impl FnMut(&RawPacket<'_>) -> ControlFlow<()>,
) -> Result<ReadSummary, CaptureError> {
    let name = name.to_string();
    let path_arg = match source {
        Source::File(p) => p.clone(),
        _ => PathBuf::from("-"),
    };
    let reopen = |skip: u64, f: &mut dyn FnMut(&RawPacket<'_>) -> ControlFlow<()>| match source {
        Source::File(p) => fallback::read_pcapng(p, &name, skip, f),
        _ => Err(CaptureError::Unreadable {
            file: name.clone(),
            detail: "standard input cannot be read twice".into(),
        }),
    };
    let reopen: Option<&Reopen<'_>> = match source {
        Source::File(_) => Some(&reopen),
        _ => None,
    };
    match pcap::Capture::from_file_with_precision(&path_arg, pcap::Precision::Nano) {
        Ok(cap) => libpcap_loop(cap, &mut f, reopen),
        Err(e) => {
            let detail = e.to_string();
            match reopen {
                Some(again) if is_mixed_linktype_error(&detail) => again(0, &mut f),
                _ => Err(open_error(&name, &detail, matches!(source, Source::Stdin))),
            }
        }
    }
}

/// Every packet libpcap delivers from `cap`; a pcapng whose interfaces differ in link
/// type is read on with `reopen` from where libpcap stopped.
fn libpcap_loop(
    mut cap: pcap::Capture<pcap::Offline>,
    f: &mut dyn FnMut(&RawPacket<'_>) -> ControlFlow<()>,
    reopen: Option<&Reopen<'_>>,
) -> Result<ReadSummary, CaptureError> {
    let linktype = dlt_to_linktype(cap.get_datalink().0);
    let mut summary = ReadSummary {
        reader: "libpcap",
        ..Default::default()
    };
    loop {
        match cap.next_packet() {
            Ok(p) => {
                summary.packets += 1;
                let ts = Ts::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec);
                let raw = RawPacket {
                    index: summary.packets,
                    ts,
                    linktype,
                    orig_len: p.header.len,
                    data: p.data,
                };
                if f(&raw).is_break() {
                    break;
                }
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => {
                let detail = e.to_string();
                if let Some(again) = reopen
                    && is_mixed_linktype_error(&detail)
                {
                    let already = summary.packets;
                    let mut rest = again(already, f)?;
                    rest.warnings.insert(
                        0,
                        format!(
                            "libpcap stopped after {already} packets ({}); the rest was read with the built-in pcapng reader",
                            detail.trim()
                        ),
                    );
                    return Ok(rest);
                }
                summary.warnings.push(cut_warning(summary.packets, &detail));
                break;
            }
        }
    }
    Ok(summary)
}

/// libpcap's own words: the message of a libpcap error without the `pcap` crate's
/// "libpcap error: " prefix, to be put after the name of what failed.
pub(crate) fn libpcap_message(e: impl std::fmt::Display) -> String {
    let s = e.to_string();
    s.trim().trim_start_matches("libpcap error: ").to_string()
}

fn cut_warning(packets: u64, detail: &str) -> String {
    let detail = libpcap_message(detail);
    format!(
        "reading stopped after packet {packets}: {detail}; the file looks damaged or cut short, everything before that point is reported"
    )
}

/// libpcap 1.10 refuses pcapng files whose interfaces differ in link type ("an interface
/// has a type ... different from the type of the first interface") or in snapshot length.
fn is_mixed_linktype_error(detail: &str) -> bool {
    detail.contains("an interface has a") && detail.contains("different from the")
}

/// Why the capture file `source` names cannot be read, found before reading it (and
/// before the terminal UI takes the screen): missing, a folder, unreadable, empty, or
/// compressed in a format not read directly. Standard input passes.
pub fn check(source: &Source) -> Result<(), CaptureError> {
    match source {
        Source::File(p) => precheck(p, &source.label()),
        Source::Stdin => Ok(()),
        Source::Merged(all) => all.iter().try_for_each(check),
    }
}

fn precheck(p: &Path, name: &str) -> Result<(), CaptureError> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => Err(CaptureError::IsDirectory {
            file: name.to_string(),
        }),
        Ok(m) if m.is_file() && m.len() == 0 => Err(CaptureError::Empty {
            file: name.to_string(),
        }),
        Ok(_) => match std::fs::File::open(p) {
            Ok(f) => sniff(f, name),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                Err(CaptureError::PermissionDenied {
                    file: name.to_string(),
                })
            }
            Err(e) => Err(CaptureError::Unreadable {
                file: name.to_string(),
                detail: e.to_string(),
            }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(CaptureError::NotFound {
            file: name.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(CaptureError::PermissionDenied {
                file: name.to_string(),
            })
        }
        Err(e) => Err(CaptureError::Unreadable {
            file: name.to_string(),
            detail: e.to_string(),
        }),
    }
}

/// Compressed formats that are not read directly, by their magic bytes: the format's
/// name and the tool that decompresses it. gzip (1f 8b), zstd (28 b5 2f fd) and xz
/// (fd 37 7a 58 5a 00) are read directly (decompressed as they are read), so are not here.
const UNSUPPORTED_COMPRESSION: &[(&[u8], &str, &str)] = &[
    (b"BZh", "bzip2", "bunzip2"),
    (&[0x04, 0x22, 0x4d, 0x18], "lz4", "unlz4"),
    (b"PK\x03\x04", "zip", "unzip"),
    (&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c], "7z", "7z x"),
];

/// A compressed file's format, from its first bytes, when it is not read directly.
pub fn unsupported_compression(head: &[u8]) -> Option<(&'static str, &'static str)> {
    UNSUPPORTED_COMPRESSION
        .iter()
        .find(|(magic, _, _)| head.starts_with(magic))
        .map(|&(_, format, tool)| (format, tool))
}

/// Look at the first bytes of an open capture file: a compressed file is named as such.
fn sniff(mut f: std::fs::File, name: &str) -> Result<(), CaptureError> {
    use std::io::Read;
    let mut head = [0u8; 8];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // The reader that follows says what is wrong with the file.
            Err(_) => return Ok(()),
        }
    }
    match unsupported_compression(&head[..n]) {
        Some((format, tool)) => Err(CaptureError::Compressed {
            file: name.to_string(),
            format,
            tool,
        }),
        None => Ok(()),
    }
}

fn open_error(name: &str, detail: &str, stdin: bool) -> CaptureError {
    let d = libpcap_message(detail);
    let lower = d.to_ascii_lowercase();
    // Standard input that ended before a byte came (a file is checked before).
    if stdin && lower.contains("truncated dump file") && lower.ends_with("only got 0") {
        return CaptureError::EmptyInput;
    }
    if lower.contains("unknown file format")
        || lower.contains("bad dump file format")
        || lower.contains("truncated dump file")
        || lower.contains("not a")
        || lower.contains("too short")
    {
        CaptureError::NotACapture {
            file: name.to_string(),
            detail: d,
        }
    } else {
        CaptureError::Unreadable {
            file: name.to_string(),
            detail: d,
        }
    }
}

/// Human name of a LINKTYPE value.
pub fn linktype_name(lt: u32) -> String {
    let n = match lt {
        0 => "NULL",
        1 => "ETHERNET",
        9 => "PPP",
        50 => "PPP_HDLC",
        51 => "PPP_ETHER",
        101 => "RAW",
        104 => "C_HDLC",
        108 => "LOOP",
        113 => "LINUX_SLL",
        228 => "IPV4",
        229 => "IPV6",
        276 => "LINUX_SLL2",
        105 => "IEEE802_11",
        127 => "IEEE802_11_RADIOTAP",
        274 => "ETHERNET_MPACKET",
        _ => return format!("LINKTYPE_{lt}"),
    };
    n.to_string()
}
