//! Which part of a connection a diagram draws: `--frames A-B` (capture frame numbers,
//! inclusive) or `--time A-B` (seconds since the connection's first packet, inclusive),
//! so a long transfer gives a readable picture instead of one 38,000 pixels tall.
//!
//! Either end may be left open (`--frames 60-`, `--time -0.002`). A range that is
//! backwards, unreadable or holds none of the connection's packets is an error that
//! says what the connection does span.

use crate::tcp::PacketRecord;
use std::fmt;
use std::str::FromStr;

/// Frame numbers `from..=to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRange {
    pub from: u64,
    pub to: u64,
}

/// Seconds since the connection's first packet, `from..=to`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeRange {
    pub from: f64,
    pub to: f64,
}

/// The part of a connection to draw.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Slice {
    #[default]
    All,
    Frames(FrameRange),
    Time(TimeRange),
}

/// Split `A-B` into its two (possibly empty) ends.
fn ends(s: &str) -> Result<(&str, &str), String> {
    let s = s.trim();
    let Some((a, b)) = s.split_once('-') else {
        return Err(format!(
            "{s:?}: expected a range A-B (either end may be left out)"
        ));
    };
    if a.trim().is_empty() && b.trim().is_empty() {
        return Err(format!("{s:?}: give at least one end of the range"));
    }
    Ok((a.trim(), b.trim()))
}

impl FromStr for FrameRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = ends(s)?;
        let num = |x: &str, open: u64| -> Result<u64, String> {
            if x.is_empty() {
                return Ok(open);
            }
            x.parse::<u64>()
                .map_err(|_| format!("{x:?} is not a frame number (frames count from 1)"))
        };
        let (from, to) = (num(a, 1)?, num(b, u64::MAX)?);
        if from == 0 {
            return Err("frames count from 1 (as in Wireshark): frame 0 does not exist".into());
        }
        if from > to {
            return Err(format!(
                "{s}: the range is backwards (write {to}-{from})",
                s = s.trim()
            ));
        }
        Ok(FrameRange { from, to })
    }
}

impl FromStr for TimeRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = ends(s)?;
        let num = |x: &str, open: f64| -> Result<f64, String> {
            if x.is_empty() {
                return Ok(open);
            }
            match x.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                _ => Err(format!(
                    "{x:?} is not a time in seconds since the connection's first packet"
                )),
            }
        };
        let (from, to) = (num(a, 0.0)?, num(b, f64::INFINITY)?);
        if from > to {
            return Err(format!(
                "{s}: the range is backwards (write {b}-{a})",
                s = s.trim()
            ));
        }
        Ok(TimeRange { from, to })
    }
}

impl fmt::Display for Slice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Slice::All => write!(f, "the whole connection"),
            Slice::Frames(r) if r.to == u64::MAX => write!(f, "--frames {}-", r.from),
            Slice::Frames(r) => write!(f, "--frames {}-{}", r.from, r.to),
            Slice::Time(r) if r.to.is_infinite() => write!(f, "--time {}-", r.from),
            Slice::Time(r) => write!(f, "--time {}-{}", r.from, r.to),
        }
    }
}

/// Seconds of `p` since the first packet of `pkts`.
fn rel(pkts: &[PacketRecord], p: &PacketRecord) -> f64 {
    pkts.first().map_or(0.0, |f| p.ts.secs_since(f.ts))
}

impl Slice {
    /// Whether `p` (a packet of `pkts`) is inside the slice.
    pub fn contains(&self, pkts: &[PacketRecord], p: &PacketRecord) -> bool {
        match self {
            Slice::All => true,
            Slice::Frames(r) => (r.from..=r.to).contains(&p.frame),
            // Printed times are rounded to microseconds: a time typed from a diagram
            // (`0.000123`) selects the packet printed with it.
            Slice::Time(r) => {
                let t = rel(pkts, p);
                t >= r.from - 5e-7 && t <= r.to + 5e-7
            }
        }
    }

    /// The indexes of `pkts` inside the slice (a contiguous run for frames and for
    /// time-ordered captures), or why there are none.
    pub fn select(&self, pkts: &[PacketRecord]) -> Result<Vec<usize>, String> {
        let idx: Vec<usize> = (0..pkts.len())
            .filter(|&i| self.contains(pkts, &pkts[i]))
            .collect();
        if idx.is_empty() && *self != Slice::All {
            return Err(format!("{self} holds none of its packets: {}", span(pkts)));
        }
        Ok(idx)
    }
}

/// What a connection spans, for error messages.
pub fn span(pkts: &[PacketRecord]) -> String {
    match (pkts.first(), pkts.last()) {
        (Some(a), Some(b)) => format!(
            "the connection spans frames {}-{} and 0-{:.6} s",
            pkts.iter().map(|p| p.frame).min().unwrap_or(a.frame),
            pkts.iter().map(|p| p.frame).max().unwrap_or(b.frame),
            pkts.iter().map(|p| rel(pkts, p)).fold(0.0, f64::max)
        ),
        _ => "the connection has no packet records".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ranges() {
        assert_eq!("5-9".parse(), Ok(FrameRange { from: 5, to: 9 }));
        assert_eq!(" 7 - 7 ".parse(), Ok(FrameRange { from: 7, to: 7 }));
        assert_eq!(
            "60-".parse(),
            Ok(FrameRange {
                from: 60,
                to: u64::MAX
            })
        );
        assert_eq!("-3".parse(), Ok(FrameRange { from: 1, to: 3 }));
        let e = "9-5".parse::<FrameRange>().unwrap_err();
        assert!(e.contains("backwards (write 5-9)"), "{e}");
        assert!("0-5".parse::<FrameRange>().is_err());
        assert!("5".parse::<FrameRange>().is_err());
        assert!("-".parse::<FrameRange>().is_err());
        assert!("a-b".parse::<FrameRange>().unwrap_err().contains("\"a\""));
    }

    #[test]
    fn time_ranges() {
        assert_eq!(
            "0.002-0.004".parse(),
            Ok(TimeRange {
                from: 0.002,
                to: 0.004
            })
        );
        assert_eq!("-1".parse::<TimeRange>().unwrap().from, 0.0);
        assert!("2-1".parse::<TimeRange>().is_err());
        assert!("x-1".parse::<TimeRange>().is_err());
        assert!("nan-1".parse::<TimeRange>().is_err());
    }
}
