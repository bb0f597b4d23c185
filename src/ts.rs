//! Timestamps as integer nanoseconds since the epoch.
//!
//! An f64 cannot hold nanoseconds at epoch scale (it has ~15.9 significant digits), so
//! every timestamp in tcpscope is an `i64` of nanoseconds and is printed from integers.
//! Durations handed to users (`irtt_ms`) are ordinary floats: they are small.
//!
//! `Ts::now()` is the one reading of the wall clock as a timestamp, for the edge only
//! (a live capture's expiry ticks): core modules take time from packets, never from here.

use serde::{Serialize, Serializer};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since 1970-01-01T00:00:00Z, as read from the capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub i64);

impl Ts {
    /// The wall clock, as live packets are stamped by it.
    pub fn now() -> Ts {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ts(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }

    pub fn from_parts(secs: i64, nanos: i64) -> Ts {
        Ts(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }

    /// Milliseconds from `earlier` to `self` (negative when the capture's clock went back).
    pub fn ms_since(self, earlier: Ts) -> f64 {
        (self.0.saturating_sub(earlier.0)) as f64 / 1e6
    }

    pub fn secs_since(self, earlier: Ts) -> f64 {
        (self.0.saturating_sub(earlier.0)) as f64 / 1e9
    }
}

impl fmt::Display for Ts {
    /// `1700000000.123456789`: seconds with exactly nine decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let secs = abs / 1_000_000_000;
        let nanos = abs % 1_000_000_000;
        if neg {
            write!(f, "-{secs}.{nanos:09}")
        } else {
            write!(f, "{secs}.{nanos:09}")
        }
    }
}

impl Serialize for Ts {
    /// Written as a JSON number with exactly nine decimals, built from integers so no digit
    /// is lost to floating point.
    ///
    /// Serialized as `serde_json::value::RawValue` serializes itself (a one-field struct
    /// under serde_json's raw-value token), from digits written on the stack: building a
    /// `RawValue` allocated and re-parsed every timestamp (~2% of a JSON report's CPU).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        const RAW: &str = "$serde_json::private::RawValue";
        let mut buf = [0u8; 32];
        let text = self.digits(&mut buf);
        let mut st = s.serialize_struct(RAW, 1)?;
        st.serialize_field(RAW, text)?;
        st.end()
    }
}

impl Ts {
    /// What `Display` writes, into `buf` (an i64 of nanoseconds needs at most 21 bytes).
    fn digits(self, buf: &mut [u8; 32]) -> &str {
        let abs = self.0.unsigned_abs();
        let (mut secs, mut nanos) = (abs / 1_000_000_000, abs % 1_000_000_000);
        let mut at = buf.len();
        for _ in 0..9 {
            at -= 1;
            buf[at] = b'0' + (nanos % 10) as u8;
            nanos /= 10;
        }
        at -= 1;
        buf[at] = b'.';
        loop {
            at -= 1;
            buf[at] = b'0' + (secs % 10) as u8;
            secs /= 10;
            if secs == 0 {
                break;
            }
        }
        if self.0 < 0 {
            at -= 1;
            buf[at] = b'-';
        }
        // Only ASCII digits, '.' and '-' were written.
        std::str::from_utf8(&buf[at..]).unwrap_or_default()
    }
}

/// `serialize_with` helper for fields holding integer nanoseconds.
pub fn ser_ns<S: Serializer>(ns: &i64, s: S) -> Result<S::Ok, S::Error> {
    Ts(*ns).serialize(s)
}

/// A length of time as people say it: `3 ms`, `1.5 s`, `21 years`. Two significant
/// figures below ten units, whole units above; never negative (the magnitude is shown).
pub fn human_duration(ns: i64) -> String {
    const UNITS: [(f64, &str, &str); 8] = [
        (365.25 * 86_400e9, "year", "years"),
        (86_400e9, "day", "days"),
        (3_600e9, "h", "h"),
        (60e9, "min", "min"),
        (1e9, "s", "s"),
        (1e6, "ms", "ms"),
        (1e3, "µs", "µs"),
        (1.0, "ns", "ns"),
    ];
    let n = ns.unsigned_abs() as f64;
    let (size, one, many) = UNITS
        .iter()
        .copied()
        .find(|(size, _, _)| n >= *size)
        .unwrap_or(UNITS[7]);
    let v = n / size;
    let text = if v >= 9.95 {
        format!("{v:.0}")
    } else {
        let t = format!("{v:.1}");
        t.strip_suffix(".0").map(str::to_string).unwrap_or(t)
    };
    let unit = if text == "1" { one } else { many };
    format!("{text} {unit}")
}

/// A count for people: `24576` → `24,576`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON number is what `Display` prints, at the extremes too, and reads back.
    #[test]
    fn json_is_display() {
        for ns in [
            0,
            1,
            -1,
            999_999_999,
            -1_000_000_000,
            1_700_000_000_123_456_789,
            i64::MIN,
            i64::MAX,
        ] {
            let t = Ts(ns);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, t.to_string());
            let back: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert!(back.is_number(), "{json}");
        }
    }

    #[test]
    fn prints_nine_decimals_exactly() {
        let t = Ts::from_parts(1_700_000_000, 123_456_789);
        assert_eq!(t.to_string(), "1700000000.123456789");
        assert_eq!(Ts::from_parts(5, 7).to_string(), "5.000000007");
        assert_eq!(serde_json::to_string(&t).unwrap(), "1700000000.123456789");
    }

    #[test]
    fn negative_timestamps_print_sanely() {
        assert_eq!(Ts(-1_500_000_000).to_string(), "-1.500000000");
    }
}
