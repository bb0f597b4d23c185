//! The incremental chunked transfer-coding decoder (RFC 9112 §7.1): sizes, extensions,
//! data handed out as slices without copying, the trailer section.
//!
//! Owns: the `Chunked` state machine. Must not touch exchanges or content decoding.

use super::Status;
use super::anomaly::ChunkError;
use super::framing::{Fields, lossy, trim};

#[derive(Clone, Copy, Debug)]
enum CState {
    SizeStart,
    Size(u64),
    Ext { size: u64, len: usize },
    SizeLf(u64),
    Data(u64),
    DataCr,
    DataLf,
    Trailer { line_len: usize, prev_cr: bool },
    Done,
}

/// Chunk extensions longer than this are treated as hostile.
const MAX_CHUNK_EXT: usize = 4096;

/// Incremental chunked decoder. Per-byte work happens only on the framing
/// bytes; chunk data is handed out as slices without copying.
#[derive(Debug)]
pub(crate) struct Chunked {
    state: CState,
    trailer: Vec<u8>,
    trailer_cap: usize,
    pub bare_lf: bool,
}

impl Chunked {
    pub(crate) fn new(trailer_cap: usize) -> Self {
        Chunked {
            state: CState::SizeStart,
            trailer: Vec::new(),
            trailer_cap,
            bare_lf: false,
        }
    }

    fn after_size(&mut self, size: u64) {
        self.state = if size == 0 {
            CState::Trailer {
                line_len: 0,
                prev_cr: false,
            }
        } else {
            CState::Data(size)
        };
    }

    /// Feed bytes: `Partial(consumed)` (all of them) while the body goes on,
    /// `Complete(consumed, trailers)` right after the final CRLF, so following bytes
    /// belong to the next message; a framing error with the bytes consumed before it.
    pub(crate) fn feed(
        &mut self,
        data: &[u8],
        mut on_data: impl FnMut(&[u8]),
    ) -> Result<Status<Fields>, (ChunkError, usize)> {
        let mut i = 0;
        match self.step(data, &mut i, &mut on_data) {
            Ok(true) => Ok(Status::Complete(i, self.trailers())),
            Ok(false) => Ok(Status::Partial(i)),
            Err(e) => Err((e, i)),
        }
    }

    fn step(
        &mut self,
        data: &[u8],
        i: &mut usize,
        on_data: &mut impl FnMut(&[u8]),
    ) -> Result<bool, ChunkError> {
        while *i < data.len() {
            let i0 = *i;
            if let CState::Data(rem) = self.state {
                let avail = data.len() - i0;
                let take = usize::try_from(rem).map_or(avail, |r| r.min(avail));
                on_data(data.get(i0..i0 + take).unwrap_or_default());
                *i += take;
                let left = rem - take as u64;
                self.state = if left == 0 {
                    CState::DataCr
                } else {
                    CState::Data(left)
                };
                continue;
            }
            // The bytes after the final CRLF belong to the next message.
            if matches!(self.state, CState::Done) {
                return Ok(true);
            }
            let Some(&b) = data.get(i0) else { break };
            *i += 1;
            if self.framing_byte(b)? {
                return Ok(true);
            }
        }
        Ok(matches!(self.state, CState::Done))
    }

    /// One byte of framing (outside chunk data); true once the message has ended.
    fn framing_byte(&mut self, b: u8) -> Result<bool, ChunkError> {
        match self.state {
            CState::Data(_) | CState::Done => {}
            CState::SizeStart => self.size_byte(None, b)?,
            CState::Size(v) => self.size_byte(Some(v), b)?,
            CState::Ext { size, len } => match b {
                b'\r' => self.state = CState::SizeLf(size),
                b'\n' => {
                    self.bare_lf = true;
                    self.after_size(size);
                }
                _ if len >= MAX_CHUNK_EXT => return Err(ChunkError::InvalidSize),
                _ => self.state = CState::Ext { size, len: len + 1 },
            },
            CState::SizeLf(size) => match b {
                b'\n' => self.after_size(size),
                _ => return Err(ChunkError::InvalidSize),
            },
            CState::DataCr => match b {
                b'\r' => self.state = CState::DataLf,
                b'\n' => {
                    self.bare_lf = true;
                    self.state = CState::SizeStart;
                }
                _ => return Err(ChunkError::BadTerminator),
            },
            CState::DataLf => match b {
                b'\n' => self.state = CState::SizeStart,
                _ => return Err(ChunkError::BadTerminator),
            },
            CState::Trailer { line_len, prev_cr } => {
                return self.trailer_byte(b, line_len, prev_cr);
            }
        }
        Ok(false)
    }

    /// A byte of a chunk-size line; `cur`: the size read so far (None: at its start).
    fn size_byte(&mut self, cur: Option<u64>, b: u8) -> Result<(), ChunkError> {
        let digit = (b as char).to_digit(16);
        match (digit, cur) {
            (Some(d), _) => {
                let v = cur
                    .unwrap_or(0)
                    .checked_mul(16)
                    .and_then(|v| v.checked_add(u64::from(d)))
                    .ok_or(ChunkError::InvalidSize)?;
                self.state = CState::Size(v);
            }
            (None, Some(v)) => match b {
                b';' | b' ' | b'\t' => self.state = CState::Ext { size: v, len: 0 },
                b'\r' => self.state = CState::SizeLf(v),
                b'\n' => {
                    self.bare_lf = true;
                    self.after_size(v);
                }
                _ => return Err(ChunkError::InvalidSize),
            },
            (None, None) => return Err(ChunkError::InvalidSize),
        }
        Ok(())
    }

    /// A byte of the trailer section; true at its closing blank line.
    fn trailer_byte(&mut self, b: u8, line_len: usize, prev_cr: bool) -> Result<bool, ChunkError> {
        if b == b'\n' {
            if !prev_cr {
                self.bare_lf = true;
            }
            if line_len == 0 {
                self.state = CState::Done;
                return Ok(true);
            }
            self.trailer.push(b'\n');
            self.state = CState::Trailer {
                line_len: 0,
                prev_cr: false,
            };
        } else if b == b'\r' {
            self.state = CState::Trailer {
                line_len,
                prev_cr: true,
            };
        } else {
            if self.trailer.len() >= self.trailer_cap {
                return Err(ChunkError::TrailerTooLarge);
            }
            self.trailer.push(b);
            self.state = CState::Trailer {
                line_len: line_len + 1,
                prev_cr: false,
            };
        }
        Ok(false)
    }

    /// Trailer fields, parsed leniently (they are informational only).
    fn trailers(&self) -> Fields {
        self.trailer
            .split(|&b| b == b'\n')
            .filter_map(|line| {
                let colon = line.iter().position(|&b| b == b':')?;
                let (n, v) = line.split_at(colon);
                Some((lossy(trim(n)), lossy(trim(v.get(1..).unwrap_or_default()))))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, Ok((decoded body, finished)) or the error)
    type ChunkCase<'a> = (&'a [u8], Result<(&'a [u8], bool), ChunkError>);

    #[test]
    fn chunked_table() {
        let cases: &[ChunkCase] = &[
            (b"5\r\nhello\r\n0\r\n\r\n", Ok((b"hello", true))),
            (
                b"5;ext=1\r\nhello\r\n3 ; x\r\nabc\r\n0\r\nT: v\r\n\r\n",
                Ok((b"helloabc", true)),
            ),
            (b"5\r\nhel", Ok((b"hel", false))),
            (b"zz\r\n", Err(ChunkError::InvalidSize)),
            (b"\r\n", Err(ChunkError::InvalidSize)),
            (b"fffffffffffffffff\r\n", Err(ChunkError::InvalidSize)),
            (b"2\r\nabX", Err(ChunkError::BadTerminator)),
        ];
        for (data, want) in cases {
            let mut c = Chunked::new(1024);
            let mut out = Vec::new();
            let got = c
                .feed(data, |d| out.extend_from_slice(d))
                .map(|st| matches!(st, Status::Complete(..)))
                .map_err(|(e, _)| e);
            match want {
                Ok((body, done)) => {
                    assert_eq!(got, Ok(*done), "{data:?}");
                    assert_eq!(out, *body);
                }
                Err(e) => assert_eq!(got, Err(*e), "{data:?}"),
            }
        }
    }

    #[test]
    fn chunked_stops_at_message_end_and_keeps_trailers() {
        let mut c = Chunked::new(1024);
        let data = b"1\r\na\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1";
        let Ok(Status::Complete(n, trailers)) = c.feed(data, |_| {}) else {
            panic!("not complete");
        };
        assert_eq!(data.get(n..), Some(&b"HTTP/1.1"[..]));
        assert_eq!(trailers, vec![("X-T".to_string(), "1".to_string())]);
    }
}
