//! Compressed captures read directly: gzip, Zstandard and xz, told apart by their magic
//! bytes (never by the file name), on files and on standard input alike. The bytes are
//! decompressed as they are read (a stream, never the whole file in memory): gzip with
//! `flate2` (members one after another, as `zcat` does), Zstandard with `ruzstd` (frame
//! after frame), xz with `lzma-rs` on a thread that writes into a pipe.
//!
//! A stream cut short (a `.gz` copied halfway) is not an error: the packets before the
//! cut are read, and the reader adds a warning saying where the compressed data ended.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};

/// The compressions recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Gzip,
    Zstd,
    Xz,
}

impl Codec {
    /// The codec whose magic bytes `head` starts with.
    pub fn sniff(head: &[u8]) -> Option<Codec> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Codec::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Codec::Zstd)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Some(Codec::Xz)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
            Codec::Xz => "xz",
        }
    }
}

/// Bytes to read to tell every codec apart.
pub const SNIFF_LEN: usize = 6;

/// Where a decompressing stream records why it ended early.
pub type Cut = Arc<Mutex<Option<String>>>;

/// What a stream cut short leaves as a warning, if it was.
pub fn cut_warning(cut: &Cut) -> Option<String> {
    cut.lock().ok().and_then(|c| c.clone())
}

/// A reader whose first bytes were looked at: they come first again.
pub type Peeked<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// The first bytes of `r` (up to `SNIFF_LEN`, fewer when it ends before), read without
/// losing them: the returned reader gives them again.
pub fn peek<R: Read>(mut r: R) -> io::Result<(Vec<u8>, Peeked<R>)> {
    let mut head = vec![0u8; SNIFF_LEN];
    let mut n = 0;
    while n < SNIFF_LEN {
        match r.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(n);
    Ok((head.clone(), io::Cursor::new(head).chain(r)))
}

/// `input` decompressed with `codec`; `cut` receives the reason when the compressed data
/// ends early or is damaged (the stream then just ends).
pub fn decoder(codec: Codec, input: impl Read + Send + 'static, cut: Cut) -> Box<dyn Read + Send> {
    let inner: Box<dyn Read + Send> = match codec {
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 16,
            input,
        ))),
        Codec::Zstd => Box::new(Zstd {
            src: Some(BufReader::with_capacity(1 << 16, input)),
            dec: None,
        }),
        Codec::Xz => xz(input),
    };
    Box::new(Lenient {
        inner,
        codec,
        cut,
        out: 0,
        ended: false,
    })
}

/// `input` decompressed if its first bytes name a codec, as it is otherwise; decided at
/// the first read (so a pipe that has sent nothing yet does not block the caller). For
/// copies of a stream (the terminal UI's spool) that must hold the capture itself.
pub fn auto(input: impl Read + Send + 'static) -> Box<dyn Read + Send> {
    Box::new(Auto {
        raw: Some(Box::new(input)),
        inner: None,
    })
}

struct Auto {
    raw: Option<Box<dyn Read + Send>>,
    inner: Option<Box<dyn Read + Send>>,
}

impl Read for Auto {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(raw) = self.raw.take() {
            let (head, r) = peek(raw)?;
            self.inner = Some(match Codec::sniff(&head) {
                Some(c) => decoder(c, r, Cut::default()),
                None => Box::new(r),
            });
        }
        self.inner.as_mut().map_or(Ok(0), |r| r.read(buf))
    }
}

/// The codec a file is compressed with, from its first bytes (None: not compressed, or
/// not readable, which the reader then reports).
pub fn of_file(path: &std::path::Path) -> Option<Codec> {
    let (head, _) = peek(std::fs::File::open(path).ok()?).ok()?;
    Codec::sniff(&head)
}

/// Every Zstandard frame of the input in turn (`zstd` writes one per input, and
/// concatenated `.zst` files are valid).
struct Zstd<R: Read> {
    src: Option<BufReader<R>>,
    dec: Option<ruzstd::decoding::StreamingDecoder<BufReader<R>, ruzstd::decoding::FrameDecoder>>,
}

impl<R: Read> Read for Zstd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(d) = self.dec.as_mut() {
                let n = d.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                self.src = self.dec.take().map(|d| d.into_inner());
            }
            let Some(mut src) = self.src.take() else {
                return Ok(0);
            };
            if src.fill_buf()?.is_empty() {
                return Ok(0);
            }
            let d = ruzstd::decoding::StreamingDecoder::new(src)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            self.dec = Some(d);
        }
    }
}

/// xz through `lzma-rs`, which writes its output: on a thread, into a pipe whose other
/// end is read here (the pipe's buffer bounds what is held).
fn xz(input: impl Read + Send + 'static) -> Box<dyn Read + Send> {
    let (rx, mut tx) = match io::pipe() {
        Ok(p) => p,
        Err(e) => return Box::new(Failed(Some(e))),
    };
    let failure: Cut = Arc::new(Mutex::new(None));
    let seen = failure.clone();
    let spawned = std::thread::Builder::new()
        .name("tcpscope-xz".into())
        .spawn(move || {
            let mut input = BufReader::with_capacity(1 << 16, input);
            if let Err(e) = lzma_rs::xz_decompress(&mut input, &mut tx) {
                // The reader gone (it stopped early) is no failure to report.
                let broken = matches!(&e, lzma_rs::error::Error::IoError(io)
                    if io.kind() == io::ErrorKind::BrokenPipe);
                if !broken && let Ok(mut f) = seen.lock() {
                    *f = Some(e.to_string());
                }
            }
        });
    if let Err(e) = spawned {
        return Box::new(Failed(Some(e)));
    }
    Box::new(XzPipe { rx, failure })
}

/// The reading end of the xz thread's pipe: at its end, the thread's error if it had one.
struct XzPipe {
    rx: io::PipeReader,
    failure: Cut,
}

impl Read for XzPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.rx.read(buf)?;
        if n == 0
            && !buf.is_empty()
            && let Some(e) = cut_warning(&self.failure)
        {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, e));
        }
        Ok(n)
    }
}

/// A reader that could not be set up: its first read says why.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// A decompressor whose errors end the stream (with the reason kept in `cut`) instead of
/// failing the read: what was decompressed before is analysed.
struct Lenient {
    inner: Box<dyn Read + Send>,
    codec: Codec,
    cut: Cut,
    /// Bytes handed out so far.
    out: u64,
    ended: bool,
}

impl Read for Lenient {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ended {
            return Ok(0);
        }
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.out += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.ended = true;
                    let why = if e.kind() == io::ErrorKind::UnexpectedEof {
                        "the compressed data ends early (file cut short?)".to_string()
                    } else {
                        format!("damaged compressed data ({e})")
                    };
                    if let Ok(mut c) = self.cut.lock() {
                        *c = Some(format!(
                            "{} decompression stopped after {} bytes: {why}; the packets before that point are reported",
                            self.codec.name(),
                            self.out
                        ));
                    }
                    return Ok(0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn magic_bytes_name_the_codec() {
        assert_eq!(Codec::sniff(&gzip(b"x")), Some(Codec::Gzip));
        assert_eq!(
            Codec::sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Some(Codec::Zstd)
        );
        assert_eq!(
            Codec::sniff(&[0xfd, b'7', b'z', b'X', b'Z', 0]),
            Some(Codec::Xz)
        );
        assert_eq!(Codec::sniff(&[0xd4, 0xc3, 0xb2, 0xa1]), None);
        assert_eq!(Codec::sniff(&[0x1f]), None);
    }

    #[test]
    fn peek_gives_the_bytes_back() {
        let (head, mut r) = peek(&b"abcdefgh"[..]).unwrap();
        assert_eq!(head, b"abcdef");
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"abcdefgh");
        let (head, _) = peek(&b"ab"[..]).unwrap();
        assert_eq!(head, b"ab");
    }

    #[test]
    fn gzip_members_and_a_cut_stream() {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut two = gzip(&data[..1000]);
        two.extend(gzip(&data[1000..]));
        let cut = Cut::default();
        let mut all = Vec::new();
        decoder(Codec::Gzip, io::Cursor::new(two.clone()), cut.clone())
            .read_to_end(&mut all)
            .unwrap();
        assert_eq!(all, data);
        assert!(cut_warning(&cut).is_none());
        let half = two[..two.len() / 2].to_vec();
        let mut some = Vec::new();
        decoder(Codec::Gzip, io::Cursor::new(half), cut.clone())
            .read_to_end(&mut some)
            .unwrap();
        assert!(!some.is_empty() && some.len() < data.len());
        assert_eq!(some[..], data[..some.len()]);
        let w = cut_warning(&cut).unwrap();
        assert!(w.starts_with("gzip decompression stopped after"), "{w}");
    }

    #[test]
    fn xz_streams_through_its_pipe() {
        let data: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_be_bytes()).collect();
        let mut packed = Vec::new();
        lzma_rs::xz_compress(&mut &data[..], &mut packed).unwrap();
        let mut all = Vec::new();
        decoder(Codec::Xz, io::Cursor::new(packed), Cut::default())
            .read_to_end(&mut all)
            .unwrap();
        assert_eq!(all, data);
    }
}
