//! The scenarios `tcpscope demo` knows: their names (the `--scenario` values) and the
//! line `--list` gives each.

/// The scenarios `tcpscope demo --scenario` knows, in `--list` order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    Get,
    KeepAlive,
    Pipelined,
    Chunked,
    PostContinue,
    Refused,
    Reset,
    HalfClose,
    SlowReader,
    Timeout,
    Loss,
    Https,
    H2,
}

impl Scenario {
    pub const ALL: [Scenario; 13] = [
        Scenario::Get,
        Scenario::KeepAlive,
        Scenario::Pipelined,
        Scenario::Chunked,
        Scenario::PostContinue,
        Scenario::Refused,
        Scenario::Reset,
        Scenario::HalfClose,
        Scenario::SlowReader,
        Scenario::Timeout,
        Scenario::Loss,
        Scenario::Https,
        Scenario::H2,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Get => "get",
            Scenario::KeepAlive => "keep-alive",
            Scenario::Pipelined => "pipelined",
            Scenario::Chunked => "chunked",
            Scenario::PostContinue => "post-continue",
            Scenario::Refused => "refused",
            Scenario::Reset => "reset",
            Scenario::HalfClose => "half-close",
            Scenario::SlowReader => "slow-reader",
            Scenario::Timeout => "timeout",
            Scenario::Loss => "loss",
            Scenario::Https => "https",
            Scenario::H2 => "h2",
        }
    }

    /// Staged inside TLS: the client writes a key log, the recording carries it (DSB).
    pub fn is_tls(self) -> bool {
        matches!(self, Scenario::Https | Scenario::H2)
    }

    /// One line for `--list`.
    pub fn describe(self) -> &'static str {
        match self {
            Scenario::Get => {
                "one GET and its 200 response; handshake, data, the client closes first (TIME-WAIT)"
            }
            Scenario::KeepAlive => {
                "three requests one after another on one connection (one handshake, three exchanges)"
            }
            Scenario::Pipelined => {
                "three requests written in one segment before any answer; responses come in order"
            }
            Scenario::Chunked => {
                "the server answers with Transfer-Encoding: chunked, one chunk per segment"
            }
            Scenario::PostContinue => {
                "POST with Expect: 100-continue: the client waits for the interim 100, then sends the body"
            }
            Scenario::Refused => "connect to a port where nothing listens: SYN, then RST-ACK",
            Scenario::Reset => "the server aborts mid-response with RST (SO_LINGER 0, then close)",
            Scenario::HalfClose => {
                "the client shuts down its sending side after the request; the server keeps sending, then closes"
            }
            Scenario::SlowReader => {
                "a client with a tiny receive buffer reads late: zero window, probes, window updates"
            }
            Scenario::Timeout => {
                "the server accepts but never answers; the client gives up after 1.5 s and closes"
            }
            Scenario::Loss => {
                "a 1 MiB download over a veth link that drops every 40th data segment (root: network namespaces): retransmissions, dup ACKs, SACK, fast retransmit"
            }
            Scenario::Https => {
                "two GETs inside TLS 1.3 (self-signed certificate); the client writes its key log, so the capture shows both the ciphertext and the HTTP inside"
            }
            Scenario::H2 => {
                "HTTP/2 over the https scenario's TLS (ALPN h2): four requests at once on one connection, the answers interleaved frame by frame"
            }
        }
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
