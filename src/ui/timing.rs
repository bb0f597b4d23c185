//! The HTTP tab's timing bar, true to the connection: the handshake part only on the
//! connection's first exchange, measured from the first SYN (its retries named); later
//! exchanges on the same connection say it was reused; a response cut by a reset says
//! where and after how many bytes. Pure: from the model, no terminal types.

use crate::http::Exchange;
use crate::pipeline::Connection;
use crate::ui::model::{fmt_ms, packets};

/// What the bar says about the handshake.
#[derive(Clone, Debug, PartialEq)]
pub enum HandshakePart {
    /// The first exchange: first SYN to the handshake's last packet, and the SYNs resent.
    First { ms: f64, retries: u32 },
    /// A later exchange on a kept-alive connection.
    Reused,
    /// A later HTTP/2 stream: it runs beside the others on the one connection.
    Stream(u32),
    /// No handshake captured (mid-stream capture, refused...).
    Unknown,
}

/// The parts of the bar of exchange `index` (in order) of `conn`.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    pub handshake: HandshakePart,
    pub wait_ms: f64,
    pub transfer_ms: f64,
    /// `aborted by RST (frame 44) after 24,576 of 100,000 bytes`.
    pub aborted: Option<String>,
}

pub use crate::ts::thousands;

fn handshake_part(conn: &Connection, index: usize, x: &Exchange) -> HandshakePart {
    if index > 0 {
        return match &x.h2 {
            Some(h2) => HandshakePart::Stream(h2.stream_id),
            None => HandshakePart::Reused,
        };
    }
    let Some(h) = conn.summary.as_ref().map(|s| &s.handshake) else {
        return HandshakePart::Unknown;
    };
    let (Some(first), Some(ack)) = (h.syns.first(), h.ack_frame) else {
        return HandshakePart::Unknown;
    };
    let pk = packets(conn);
    let Some(end) = pk.iter().find(|p| p.frame == ack) else {
        return HandshakePart::Unknown;
    };
    HandshakePart::First {
        ms: (end.ts.0 - first.ts.0).max(0) as f64 / 1e6,
        retries: h.syns.len().saturating_sub(1) as u32,
    }
}

/// The timing of exchange `index` of `conn` (None: no request or no response).
pub fn timing(conn: &Connection, index: usize, x: &Exchange) -> Option<Timing> {
    let (rq, rs) = (x.request.as_ref()?, x.response.as_ref()?);
    let aborted = (!rs.complete)
        .then(|| {
            let rst = packets(conn)
                .iter()
                .find(|p| p.frame >= rs.frame && p.flags.rst())?;
            let of = rs
                .body_bytes_announced
                .map_or(String::new(), |n| format!(" of {}", thousands(n)));
            Some(format!(
                "aborted by RST (frame {}) after {}{of} bytes",
                rst.frame,
                thousands(rs.body_bytes)
            ))
        })
        .flatten();
    Some(Timing {
        handshake: handshake_part(conn, index, x),
        wait_ms: (rs.ts.0 - rq.end_ts.0).max(0) as f64 / 1e6,
        transfer_ms: (rs.end_ts.0 - rs.ts.0).max(0) as f64 / 1e6,
        aborted,
    })
}

impl Timing {
    /// The handshake's share of the bar (ms).
    pub fn handshake_ms(&self) -> f64 {
        match self.handshake {
            HandshakePart::First { ms, .. } => ms,
            _ => 0.0,
        }
    }

    /// The legend's handshake part.
    pub fn handshake_text(&self) -> String {
        match &self.handshake {
            HandshakePart::First { ms, retries: 0 } => format!("H handshake {}", fmt_ms(*ms)),
            HandshakePart::First { ms, retries } => format!(
                "H handshake {} from the first SYN ({retries} SYN retr{})",
                fmt_ms(*ms),
                if *retries == 1 { "y" } else { "ies" }
            ),
            HandshakePart::Reused => "reused (keep-alive): no handshake".into(),
            HandshakePart::Stream(id) => {
                format!("HTTP/2 stream {id}, beside the others on this connection: no handshake")
            }
            HandshakePart::Unknown => "handshake not captured".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::thousands(24576), "24,576");
        assert_eq!(super::thousands(100000), "100,000");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
    }
}
