//! TCP sequence numbers with wrapping (serial-number) arithmetic.
//!
//! Owns: the `SeqNum` type and the RFC 9293 / RFC 1982 style comparison rules
//! for 32-bit sequence space.
//! Must not touch: connection state, reassembly buffers or anything that knows
//! about packets; this is pure arithmetic so every other module agrees on what
//! "before" and "after" mean across the 2^32 wrap.

use std::fmt;

/// A TCP sequence number.
///
/// Deliberately has no `PartialOrd`/`Ord`: comparing raw `u32`s is wrong as
/// soon as a stream crosses 2^32, so ordering is only available through the
/// explicit serial-arithmetic methods below.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// `self + n`, wrapping at 2^32 as sequence space does.
    ///
    /// A named method rather than `impl Add`: `seq + n` in a packet analyser
    /// reads like integer addition and hides the wrap.
    #[allow(
        clippy::should_implement_trait,
        reason = "explicit name keeps the wrapping visible at call sites"
    )]
    #[inline]
    #[must_use]
    pub fn add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }

    /// Signed distance `self - other`, interpreted as a signed 32-bit value, so
    /// the result is in `-2^31 ..= 2^31 - 1`.
    ///
    /// Two numbers exactly 2^31 apart are ambiguous in serial arithmetic
    /// (RFC 1982 leaves it undefined); here the result is then `-2^31` in both
    /// directions, i.e. each is considered "before" the other. Callers that care
    /// must not rely on ordering at that distance.
    #[inline]
    #[must_use]
    pub fn diff(self, other: SeqNum) -> i64 {
        i64::from(self.0.wrapping_sub(other.0) as i32)
    }

    /// `self` strictly before `other` in sequence space.
    #[inline]
    #[must_use]
    pub fn lt(self, other: SeqNum) -> bool {
        self.diff(other) < 0
    }

    /// `self` before or equal to `other` in sequence space.
    #[inline]
    #[must_use]
    pub fn le(self, other: SeqNum) -> bool {
        self.diff(other) <= 0
    }

    /// `self` strictly after `other` in sequence space.
    #[inline]
    #[must_use]
    pub fn gt(self, other: SeqNum) -> bool {
        self.diff(other) > 0
    }

    /// `self` after or equal to `other` in sequence space.
    #[inline]
    #[must_use]
    pub fn ge(self, other: SeqNum) -> bool {
        self.diff(other) >= 0
    }

    /// The later of the two in sequence space (`self` on a tie).
    #[inline]
    #[must_use]
    pub fn max(self, other: SeqNum) -> SeqNum {
        if self.ge(other) { self } else { other }
    }

    /// The earlier of the two in sequence space (`self` on a tie).
    #[inline]
    #[must_use]
    pub fn min(self, other: SeqNum) -> SeqNum {
        if self.le(other) { self } else { other }
    }

    /// Sequence number relative to `isn` (what Wireshark shows as "relative
    /// sequence number"); for display only, it wraps after 4 GiB.
    #[inline]
    #[must_use]
    pub fn rel(self, isn: SeqNum) -> u32 {
        self.0.wrapping_sub(isn.0)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_wraps_around_2_pow_32() {
        assert_eq!(SeqNum(0xFFFF_FFFF).add(1), SeqNum(0));
        assert_eq!(SeqNum(0xFFFF_FFF0).add(0x20), SeqNum(0x10));
        assert_eq!(SeqNum(5).add(0), SeqNum(5));
        assert_eq!(SeqNum(1).add(u32::MAX), SeqNum(0));
    }

    #[test]
    fn diff_is_signed_across_the_wrap() {
        let before = SeqNum(0xFFFF_FFF0);
        let after = SeqNum(0x10);
        assert_eq!(after.diff(before), 0x20);
        assert_eq!(before.diff(after), -0x20);
        assert_eq!(SeqNum(7).diff(SeqNum(7)), 0);
        assert_eq!(SeqNum(0x7FFF_FFFF).diff(SeqNum(0)), i64::from(i32::MAX));
        // Exactly half the space apart: ambiguous, both sides read as -2^31.
        assert_eq!(SeqNum(0x8000_0000).diff(SeqNum(0)), i64::from(i32::MIN));
        assert_eq!(SeqNum(0).diff(SeqNum(0x8000_0000)), i64::from(i32::MIN));
    }

    #[test]
    fn comparisons_across_the_wrap() {
        let a = SeqNum(0xFFFF_FFFE);
        let b = SeqNum(0x0000_0003);
        assert!(a.lt(b));
        assert!(a.le(b));
        assert!(!a.gt(b));
        assert!(!a.ge(b));
        assert!(b.gt(a));
        assert!(b.ge(a));
        assert!(!b.lt(a));
        assert!(a.le(a) && a.ge(a) && !a.lt(a) && !a.gt(a));
        // Raw u32 order would say the opposite.
        assert!(a.0 > b.0);
    }

    #[test]
    fn max_min_follow_serial_order() {
        let a = SeqNum(0xFFFF_FFFE);
        let b = SeqNum(3);
        assert_eq!(a.max(b), b);
        assert_eq!(b.max(a), b);
        assert_eq!(a.min(b), a);
        assert_eq!(b.min(a), a);
        assert_eq!(a.max(a), a);
    }

    #[test]
    fn rel_is_offset_from_isn() {
        let isn = SeqNum(0xFFFF_FFF0);
        assert_eq!(isn.rel(isn), 0);
        assert_eq!(isn.add(1).rel(isn), 1);
        assert_eq!(SeqNum(0x0000_0010).rel(isn), 0x20);
    }

    #[test]
    fn display_prints_the_number() {
        assert_eq!(SeqNum(0xFFFF_FFFF).to_string(), "4294967295");
        assert_eq!(SeqNum(0).to_string(), "0");
    }
}
