//! What is odd about an exchange or a connection's HTTP, as typed values carrying what
//! was compared, and (for now) the sentence each one is shown and serialized as.
//!
//! Owns: the `Anomaly` enum and its wording. The sentences are the JSON's and must stay
//! byte for byte as they are; explain/ is meant to take the wording over. Must not touch
//! parsing or pairing.

use std::fmt;

use serde::{Serialize, Serializer};

use super::Dir;

/// A capture gap as the anomalies name it: its length and the rel seq of its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptureGap {
    pub len: u64,
    pub rel_seq: u64,
}

/// Why chunked decoding gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkError {
    InvalidSize,
    BadTerminator,
    TrailerTooLarge,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Anomaly {
    /// A line of the head (or of chunked framing) ends in LF without CR.
    BareLf,
    ObsoleteFolding,
    TooManyHeaders {
        max: usize,
    },
    /// Tokens between a request's target and its version.
    ExtraTokens {
        text: String,
    },
    MalformedHeaderLine,
    SpaceBeforeColon,
    InvalidHeaderName,
    HeadTooLarge,
    DuplicateContentLength,
    InvalidContentLength,
    /// Both Content-Length and Transfer-Encoding: a request smuggling ambiguity.
    LengthAndTransferEncoding,
    ChunkedNotFinal,
    UnsupportedTransferCoding {
        coding: String,
    },
    RequestTransferEncodingUnframed,
    Chunk(ChunkError),
    UnsupportedContentEncoding {
        coding: String,
    },
    DecompressionBomb {
        cap: u64,
    },
    DecodingFailed {
        encoding: String,
        error: String,
    },
    /// Bytes of this message lost in a capture gap.
    Gap {
        len: u64,
    },
    /// Connection level: a gap where no message was in progress.
    GapBetweenMessages {
        dir: Dir,
        len: u64,
    },
    /// `len` bytes `dir` sent before its first message were skipped: the capture began
    /// inside a message whose head it never saw (or they were not HTTP).
    SkippedBeforeFirst {
        dir: Dir,
        len: u64,
    },
    /// The head `side` sent was lost in `gap`; `estimated`: the pairing rests on an
    /// estimate from the lost bytes and the average request size.
    HeadLost {
        side: Dir,
        gap: CaptureGap,
        estimated: bool,
    },
    /// `taken` of `waiting` requests were taken as unanswered after a server gap.
    PairingUncertain {
        gap: CaptureGap,
        taken: usize,
        waiting: usize,
    },
    /// A response after an exchange whose request and response heads were both lost.
    FollowsLostExchange {
        request_gap: CaptureGap,
        response_gap: CaptureGap,
    },
    Upgraded {
        protocol: String,
    },
    Tunnel,
    /// Expect: 100-continue answered with a final status; the client skipped the body.
    ExpectContinueBodySkipped,
    IncompleteAtEndOfCapture,
    ClosedBeforeEndOfBody,
    /// The cap on notes per exchange was reached.
    MoreNotListed,
    /// A request line refused by the parser, and why: the request is kept as an exchange
    /// (its method, and its target up to the fault) instead of being skipped in silence.
    RequestLineRefused(LineFault),
    /// Something about an HTTP/2 stream or connection (see `H2Note`).
    Http2(super::h2note::H2Note),
}

/// Why a start line could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineFault {
    /// No line end within the first `max` bytes.
    TooLong { max: usize },
    /// A byte no start line may hold (a control byte, DEL, or a CR not before LF), at
    /// `offset` from the line's first byte.
    Byte { byte: u8, offset: usize },
}

impl fmt::Display for LineFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LineFault::TooLong { max } => {
                write!(
                    f,
                    "request line longer than {} bytes",
                    crate::ts::thousands(max as u64)
                )
            }
            LineFault::Byte { byte, offset } => {
                let name = match byte {
                    0 => "NUL byte".to_string(),
                    0x1b => "ESC byte".to_string(),
                    b'\r' => "bare CR".to_string(),
                    b'\t' => "tab".to_string(),
                    0x7f => "DEL byte".to_string(),
                    b => format!("control byte 0x{b:02x}"),
                };
                write!(f, "{name} in request line at offset {offset}")
            }
        }
    }
}

impl fmt::Display for CaptureGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a capture gap of {} bytes at rel seq {}",
            self.len, self.rel_seq
        )
    }
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChunkError::InvalidSize => "invalid chunk size",
            ChunkError::BadTerminator => "invalid chunk terminator",
            ChunkError::TrailerTooLarge => "trailer section too large",
        })
    }
}

impl Anomaly {
    /// The sentences that take no values.
    fn fixed(&self) -> Option<&'static str> {
        Some(match self {
            Anomaly::BareLf => "bare LF line ending",
            Anomaly::ObsoleteFolding => "obsolete line folding",
            Anomaly::MalformedHeaderLine => "malformed header line",
            Anomaly::SpaceBeforeColon => "whitespace before colon in header name",
            Anomaly::InvalidHeaderName => "invalid bytes in header name",
            Anomaly::HeadTooLarge => "header section too large",
            Anomaly::DuplicateContentLength => "duplicate differing Content-Length",
            Anomaly::InvalidContentLength => "invalid Content-Length",
            Anomaly::LengthAndTransferEncoding => {
                "both Content-Length and Transfer-Encoding (request smuggling ambiguity)"
            }
            Anomaly::ChunkedNotFinal => "chunked is not the final transfer-coding",
            Anomaly::RequestTransferEncodingUnframed => {
                "request Transfer-Encoding without final chunked"
            }
            Anomaly::Tunnel => "tunnel",
            Anomaly::ExpectContinueBodySkipped => {
                "expect 100-continue: request body not sent after final response"
            }
            Anomaly::IncompleteAtEndOfCapture => "incomplete at end of capture",
            Anomaly::ClosedBeforeEndOfBody => "connection closed before end of body",
            Anomaly::MoreNotListed => "more anomalies not listed",
            // Worded from their values in `Display`.
            Anomaly::TooManyHeaders { .. }
            | Anomaly::ExtraTokens { .. }
            | Anomaly::UnsupportedTransferCoding { .. }
            | Anomaly::Chunk(_)
            | Anomaly::UnsupportedContentEncoding { .. }
            | Anomaly::DecompressionBomb { .. }
            | Anomaly::DecodingFailed { .. }
            | Anomaly::Gap { .. }
            | Anomaly::GapBetweenMessages { .. }
            | Anomaly::SkippedBeforeFirst { .. }
            | Anomaly::HeadLost { .. }
            | Anomaly::PairingUncertain { .. }
            | Anomaly::FollowsLostExchange { .. }
            | Anomaly::Upgraded { .. }
            | Anomaly::RequestLineRefused(_)
            | Anomaly::Http2(_) => return None,
        })
    }
}

impl Anomaly {
    /// The kind of anomaly in a few words, the same for every instance whatever its
    /// values (the anomaly list groups by it).
    pub fn kind(&self) -> &'static str {
        if let Some(s) = self.fixed() {
            return s;
        }
        match self {
            Anomaly::TooManyHeaders { .. } => "too many headers",
            Anomaly::ExtraTokens { .. } => "extra tokens in request line",
            Anomaly::UnsupportedTransferCoding { .. } => "unsupported transfer-coding",
            Anomaly::Chunk(_) => "chunked framing error",
            Anomaly::UnsupportedContentEncoding { .. } => "unsupported content-encoding",
            Anomaly::DecompressionBomb { .. } => "decompression bomb",
            Anomaly::DecodingFailed { .. } => "content decoding failed",
            Anomaly::Gap { .. } => "gap inside a message",
            Anomaly::GapBetweenMessages { .. } => "gap between messages",
            Anomaly::SkippedBeforeFirst { .. } => "bytes before the first message skipped",
            Anomaly::HeadLost { .. } => "message head lost in a gap",
            Anomaly::PairingUncertain { .. } => "pairing uncertain after a gap",
            Anomaly::FollowsLostExchange { .. } => "follows an exchange lost in gaps",
            Anomaly::Upgraded { .. } => "upgraded",
            Anomaly::RequestLineRefused(_) => "request line refused",
            Anomaly::Http2(_) => "HTTP/2",
            _ => "other",
        }
    }

    /// Whether it means data was lost or could not be read (a warning), rather than a
    /// remark on how the peer wrote its message (a note).
    pub fn is_loss(&self) -> bool {
        matches!(
            self,
            Anomaly::Chunk(_)
                | Anomaly::DecompressionBomb { .. }
                | Anomaly::DecodingFailed { .. }
                | Anomaly::Gap { .. }
                | Anomaly::GapBetweenMessages { .. }
                | Anomaly::SkippedBeforeFirst { .. }
                | Anomaly::HeadLost { .. }
                | Anomaly::PairingUncertain { .. }
                | Anomaly::FollowsLostExchange { .. }
                | Anomaly::IncompleteAtEndOfCapture
                | Anomaly::ClosedBeforeEndOfBody
        )
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = self.fixed() {
            return f.write_str(s);
        }
        match self {
            Anomaly::TooManyHeaders { max } => write!(f, "too many headers (more than {max})"),
            Anomaly::ExtraTokens { text } => write!(
                f,
                "extra tokens in request line before the version: {text:?}"
            ),
            Anomaly::UnsupportedTransferCoding { coding } => {
                write!(f, "unsupported transfer-coding: {coding}")
            }
            Anomaly::Chunk(e) => e.fmt(f),
            Anomaly::UnsupportedContentEncoding { coding } => {
                write!(f, "unsupported content-encoding: {coding}")
            }
            Anomaly::DecompressionBomb { cap } => {
                write!(f, "decompression bomb: output exceeds {cap} bytes")
            }
            Anomaly::DecodingFailed { encoding, error } => {
                write!(f, "content decoding failed ({encoding}): {error}")
            }
            Anomaly::Gap { len } => write!(f, "gap of {len} bytes"),
            Anomaly::GapBetweenMessages { dir, len } => write!(
                f,
                "gap of {len} bytes in {} stream between messages",
                dir.name()
            ),
            Anomaly::SkippedBeforeFirst { dir, len } => {
                let (who, what) = match dir {
                    Dir::Client => ("client", "request"),
                    Dir::Server => ("server", "response"),
                };
                write!(
                    f,
                    "the {who}'s first {len} bytes, before this {what}, were skipped: the capture began inside an earlier {what} whose head it never saw (or they are not HTTP)"
                )
            }
            Anomaly::HeadLost {
                side,
                gap,
                estimated,
            } => {
                let what = match side {
                    Dir::Client => "request",
                    Dir::Server => "response",
                };
                write!(f, "{what} head lost in {gap}")?;
                if *estimated {
                    f.write_str(
                        " (pairing uncertain: estimated from the lost bytes and the average request size)",
                    )?;
                }
                Ok(())
            }
            Anomaly::PairingUncertain {
                gap,
                taken,
                waiting,
            } => write!(
                f,
                "pairing uncertain after {gap}: {taken} of {waiting} waiting requests taken as unanswered (estimated from the lost bytes and the average response size)"
            ),
            Anomaly::FollowsLostExchange {
                request_gap,
                response_gap,
            } => write!(
                f,
                "follows an exchange lost in capture gaps: request head lost in {request_gap}, response head lost in {response_gap}"
            ),
            Anomaly::Upgraded { protocol } => write!(f, "upgraded: {protocol}"),
            Anomaly::RequestLineRefused(fault) => fault.fmt(f),
            Anomaly::Http2(n) => n.fmt(f),
            // Every other variant has a fixed sentence, written above.
            _ => Ok(()),
        }
    }
}

impl Serialize for Anomaly {
    /// The sentence, as the JSON has always had it.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON holds each anomaly as its sentence.
    #[test]
    fn serializes_as_its_sentence() {
        let gap = CaptureGap {
            len: 30,
            rel_seq: 7,
        };
        let cases = [
            (
                Anomaly::HeadLost {
                    side: Dir::Client,
                    gap,
                    estimated: true,
                },
                "request head lost in a capture gap of 30 bytes at rel seq 7 (pairing uncertain: estimated from the lost bytes and the average request size)",
            ),
            (
                Anomaly::ExtraTokens {
                    text: "/ \"x\"".to_string(),
                },
                "extra tokens in request line before the version: \"/ \\\"x\\\"\"",
            ),
            (
                Anomaly::Chunk(ChunkError::BadTerminator),
                "invalid chunk terminator",
            ),
            (Anomaly::MoreNotListed, "more anomalies not listed"),
        ];
        for (a, want) in cases {
            assert_eq!(a.to_string(), want);
            let json = serde_json::to_string(&a).unwrap_or_default();
            assert_eq!(json, serde_json::to_string(want).unwrap_or_default());
        }
    }
}
