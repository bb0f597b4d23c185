//! Playback over packet time: the speeds, and the stepping of the playhead through a
//! list of packets in frame order (binary searches; waits capped so idle stretches are
//! skipped). Pure: `App` feeds it real time as `Action::Tick`.

use crate::http::Exchange;
use crate::tcp::PacketRecord;
use crate::ui::model;

/// Playback's state: where the playhead is and how it moves on its own.
#[derive(Clone, Debug)]
pub struct Playback {
    /// Show the capture as of this frame (None: everything).
    pub playhead: Option<u64>,
    pub playing: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// Virtual nanoseconds accumulated towards the next packet while playing.
    pub accum: i64,
    /// How playing moves: by packet time, or one packet a second (for a class).
    pub pace: Pace,
    /// Playing stops on each packet with an analysis finding (`a`).
    pub pause_at_anomaly: bool,
}

/// How playback paces the packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// At the capture's own timing (times the speed; idle stretches cut to 3 s).
    RealTime,
    /// One packet per second (times the speed: x0.5 is one every 2 s).
    PerPacket,
}

/// Where the UI reads the time from while playing: the system clock in the terminal, a
/// fake one in tests (never a sleep).
pub trait Clock {
    /// Time since some fixed start.
    fn now(&self) -> std::time::Duration;
}

/// The system's monotonic clock.
pub struct SystemClock(std::time::Instant);

impl Default for SystemClock {
    fn default() -> SystemClock {
        SystemClock(std::time::Instant::now())
    }
}

impl Clock for SystemClock {
    fn now(&self) -> std::time::Duration {
        self.0.elapsed()
    }
}

impl Default for Playback {
    fn default() -> Playback {
        Playback {
            playhead: None,
            playing: false,
            speed: SPEED_1X,
            accum: 0,
            pace: Pace::RealTime,
            pause_at_anomaly: false,
        }
    }
}

impl Playback {
    pub fn faster(&mut self) {
        self.speed = (self.speed + 1).min(SPEEDS.len() - 1);
    }

    pub fn slower(&mut self) {
        self.speed = self.speed.saturating_sub(1);
    }

    /// Play or pause; true when playing starts with no playhead (the first step is due).
    pub fn toggle(&mut self) -> bool {
        self.playing = !self.playing;
        self.accum = 0;
        self.playing && self.playhead.is_none()
    }

    /// Count `real_ns` of real time towards the next packet, at the current speed.
    pub fn add_real(&mut self, real_ns: i64) {
        self.accum += (real_ns as f64 * SPEEDS[self.speed]) as i64;
    }

    /// The pace for the status bar: `x1` (packet time times the speed) or `1 pkt/s`, and
    /// `stop at ⚠` when playing pauses at anomalies.
    pub fn mode_text(&self) -> String {
        let mut s = match self.pace {
            Pace::RealTime => format!("x{}", SPEEDS[self.speed]),
            Pace::PerPacket => format!("{} pkt/s", SPEEDS[self.speed]),
        };
        if self.pause_at_anomaly {
            s.push_str(" stop at ⚠");
        }
        s
    }

    /// Real time (ns) → packet time (ns) between two packets `wait` apart, at this pace.
    pub fn wait_for(&self, wait: i64) -> i64 {
        match self.pace {
            Pace::RealTime => wait,
            Pace::PerPacket => 1_000_000_000,
        }
    }

    /// `m`: the other pace.
    pub fn cycle_pace(&mut self) {
        self.pace = match self.pace {
            Pace::RealTime => Pace::PerPacket,
            Pace::PerPacket => Pace::RealTime,
        };
        self.accum = 0;
    }

    /// Whether frame `f` has been reached.
    pub fn shows(&self, f: u64) -> bool {
        self.playhead.is_none_or(|p| f <= p)
    }

    /// How many of `http` (in order) have had their request arrive.
    pub fn exchanges_shown(&self, http: &[Exchange]) -> usize {
        match self.playhead {
            None => http.len(),
            Some(f) => http
                .iter()
                .filter(|x| x.request.as_ref().is_some_and(|r| r.end_frame <= f))
                .count(),
        }
    }

    /// Whether `x`'s response has been seen whole.
    pub fn response_done(&self, x: &Exchange) -> bool {
        x.response.as_ref().is_some_and(|r| self.shows(r.end_frame))
    }

    /// Whether the list may say how `x`'s response went: its response has been seen
    /// whole, or, when none was captured, its request has.
    pub fn response_settled(&self, x: &Exchange) -> bool {
        match (&x.response, &x.request) {
            (Some(r), _) => self.shows(r.end_frame),
            (None, Some(q)) => self.shows(q.end_frame),
            (None, None) => self.playhead.is_none(),
        }
    }
}

/// Playback speeds offered by `+`/`-`.
pub const SPEEDS: [f64; 11] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 75.0, 100.0];
pub(crate) const SPEED_1X: usize = 3;
/// Longest real wait between two packets while playing: idle stretches are skipped.
pub const MAX_PLAY_WAIT_NS: i64 = 3_000_000_000;

/// The packets the playhead steps through (see [`App::step_frames`]), sorted by frame.
#[derive(Clone, Copy)]
pub(crate) enum StepFrames<'a> {
    /// Every packet of the capture (connections table).
    Capture(&'a [model::Tick]),
    /// The open connection's packets.
    Conn(&'a [PacketRecord]),
}

impl StepFrames<'_> {
    pub(crate) fn len(self) -> usize {
        match self {
            StepFrames::Capture(t) => t.len(),
            StepFrames::Conn(p) => p.len(),
        }
    }

    /// The i-th packet's (frame, timestamp ns).
    pub(crate) fn at(self, i: usize) -> (u64, i64) {
        match self {
            StepFrames::Capture(t) => (t[i].frame, t[i].ts.0),
            StepFrames::Conn(p) => (p[i].frame, p[i].ts.0),
        }
    }

    /// The connection of the i-th packet, when stepping across the capture.
    pub(crate) fn conn(self, i: usize) -> Option<usize> {
        match self {
            StepFrames::Capture(t) => Some(t[i].conn as usize),
            StepFrames::Conn(_) => None,
        }
    }
}

/// How many of `n` packets in frame order, `at(i)` being the i-th's (frame, timestamp ns),
/// come before the first whose frame fails `pred` (a binary search, like
/// `<[T]>::partition_point`).
fn frames_partition(
    n: usize,
    at: impl Fn(usize) -> (u64, i64),
    pred: impl Fn(u64) -> bool,
) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(at(mid).0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The packet (index among `n` in frame order, `at` as in [`frames_partition`]) one step
/// from the playhead: the first or last when there is none; None past either end.
pub(crate) fn step_index(
    n: usize,
    at: impl Fn(usize) -> (u64, i64),
    playhead: Option<u64>,
    forward: bool,
) -> Option<usize> {
    let i = match (playhead, forward) {
        (None, true) => Some(0),
        (None, false) => n.checked_sub(1),
        (Some(f), true) => Some(frames_partition(n, at, |x| x <= f)),
        (Some(f), false) => frames_partition(n, at, |x| x < f).checked_sub(1),
    };
    i.filter(|&i| i < n)
}

/// Wait (ns, at most [`MAX_PLAY_WAIT_NS`]) from the last packet at or before frame `cur` to
/// the one after it, among `n` packets in frame order (`at` as in [`frames_partition`]).
pub(crate) fn wait_after(n: usize, at: impl Fn(usize) -> (u64, i64), cur: u64) -> Option<i64> {
    let i = frames_partition(n, &at, |x| x <= cur);
    if i == 0 || i >= n {
        return None;
    }
    let now = at(i - 1).1;
    let next = at(i).1;
    Some((next - now).clamp(0, MAX_PLAY_WAIT_NS))
}
