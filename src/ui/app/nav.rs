//! Navigation a class can follow: `:N` / `g N` to frame N, `n` / `N` to the next /
//! previous anomaly, the anomaly list (`e`), and the pacing of playback (`m`, `a`).
//! Part of `app`: each of these moves the playhead, the selection or the screen.

use crate::tcp::PacketRecord;
use crate::ui::action::{Action, GotoAction};
use crate::ui::anomalies::AnomalyList;
use crate::ui::app::{App, Screen};
use crate::ui::model::packets;

/// Longest frame number typed at the prompt (u64 has 20 digits).
const GOTO_DIGITS: usize = 20;

impl App {
    /// The actions of this part of the app; false: not one of them.
    pub(super) fn update_nav(&mut self, a: Action) -> bool {
        match a {
            Action::Goto(g) => self.goto_key(g),
            Action::NextAnomaly => self.next_anomaly(true),
            Action::PrevAnomaly => self.next_anomaly(false),
            Action::ToggleAnomalies => self.toggle_anomalies(),
            Action::CyclePace => self.play.cycle_pace(),
            Action::TogglePauseAtAnomaly => {
                self.play.pause_at_anomaly = !self.play.pause_at_anomaly;
            }
            Action::HelpScroll(n) => {
                let max = crate::ui::keys::help_max_scroll(self.size.0, self.size.1);
                let s = (self.help_scroll as i64 + i64::from(n)).clamp(0, max as i64);
                self.help_scroll = s as usize;
            }
            Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Open
                if self.anomalies.is_some() =>
            {
                self.anomaly_list_key(a)
            }
            _ => return false,
        }
        true
    }

    fn goto_key(&mut self, g: GotoAction) {
        match g {
            GotoAction::Start(d) => self.goto = Some(d.map(String::from).unwrap_or_default()),
            GotoAction::Digit(c) => {
                if let Some(s) = self.goto.as_mut().filter(|s| s.len() < GOTO_DIGITS) {
                    s.push(c);
                }
            }
            GotoAction::Backspace => {
                if let Some(s) = self.goto.as_mut() {
                    s.pop();
                }
            }
            GotoAction::Cancel => self.goto = None,
            GotoAction::Done => {
                let typed = self.goto.take().unwrap_or_default();
                match typed.parse::<u64>() {
                    Ok(n) => self.goto_frame(n),
                    Err(_) => self.message = Some("go to frame: type its number".into()),
                }
            }
        }
    }

    /// Whether jumping may reveal packets: not in quiz mode (the quiz asks before each).
    fn may_jump(&mut self) -> bool {
        if self.quiz.is_some() {
            self.message = Some("quiz mode: step with Space (z ends the quiz)".into());
            return false;
        }
        true
    }

    /// The connection (index into `Loaded::rows`) frame `frame` belongs to: the open
    /// one first, else any whose packets hold it.
    fn conn_of_frame(&self, frame: u64) -> Option<usize> {
        let d = self.data.as_ref()?;
        if let Some(ci) = self.conn_view.conn
            && self.screen == Screen::Connection
            && d.conn(ci)
                .map_or(&[][..], packets)
                .binary_search_by_key(&frame, |p| p.frame)
                .is_ok()
        {
            return Some(ci);
        }
        let t = &d.timeline;
        let i = t.partition_point(|x| x.frame < frame);
        t.get(i)
            .filter(|x| x.frame == frame)
            .map(|x| x.conn as usize)
    }

    /// Jump to frame `frame`: open its connection and select its packet; while stepping,
    /// the playhead moves to it (forward or back).
    pub fn goto_frame(&mut self, frame: u64) {
        if !self.may_jump() {
            return;
        }
        let Some(ci) = self.conn_of_frame(frame) else {
            self.message = Some(format!(
                "frame {frame} is in no connection (not a TCP packet of this capture, or not kept)"
            ));
            return;
        };
        if self.screen != Screen::Connection || self.conn_view.conn != Some(ci) {
            if let Some(row) = self.visible_row(ci) {
                self.table.sel = row;
            }
            if self.conn_view.open(ci) {
                self.frame_bytes = None;
                self.stream = None;
            }
            self.screen = Screen::Connection;
        }
        self.anomalies = None;
        if self.play.playhead.is_some() {
            self.play.playing = false;
            self.play.playhead = Some(frame);
        }
        let i = self.visible_packets().partition_point(|p| p.frame < frame);
        self.conn_view.select_packet(i);
        self.conn_view.http_sel = self.visible_exchanges().saturating_sub(1);
        self.message = Some(format!("frame {frame}"));
    }

    /// The packet of frame `frame`, wherever it is in the capture.
    pub(super) fn packet_at(&self, frame: u64) -> Option<&PacketRecord> {
        let d = self.data.as_ref()?;
        let ci = self.conn_of_frame(frame)?;
        let p = packets(d.conn(ci)?);
        p.binary_search_by_key(&frame, |x| x.frame)
            .ok()
            .map(|i| &p[i])
    }

    /// `n` / `N`: the next (previous) packet with an analysis finding after (before) the
    /// selected packet in a connection, or the playhead on the connections list.
    fn next_anomaly(&mut self, forward: bool) {
        if !self.may_jump() {
            return;
        }
        let found = match self.screen {
            Screen::Connection => {
                let cur = self
                    .visible_packets()
                    .get(self.conn_view.pkt_sel)
                    .map(|p| p.frame);
                let pk = self.packets();
                let hit = |p: &&PacketRecord| !p.analysis.is_empty();
                match (forward, cur) {
                    (true, c) => pk
                        .iter()
                        .filter(|p| c.is_none_or(|c| p.frame > c))
                        .find(hit),
                    (false, Some(c)) => pk.iter().rev().filter(|p| p.frame < c).find(hit),
                    (false, None) => None,
                }
                .map(|p| p.frame)
            }
            Screen::Connections => self.capture_anomaly(forward),
        };
        match found {
            Some(f) => self.goto_frame(f),
            None => {
                self.message = Some(format!(
                    "no {} anomaly",
                    if forward { "later" } else { "earlier" }
                ))
            }
        }
    }

    /// The next (previous) anomalous frame of the whole capture after (before) the playhead.
    fn capture_anomaly(&self, forward: bool) -> Option<u64> {
        let d = self.data.as_ref()?;
        let ph = self.play.playhead;
        let is_hit = |t: &&crate::ui::model::Tick| {
            let p = d.conn(t.conn as usize).map_or(&[][..], packets);
            p.binary_search_by_key(&t.frame, |x| x.frame)
                .is_ok_and(|i| !p[i].analysis.is_empty())
        };
        let t = &d.timeline;
        if forward {
            t.iter()
                .filter(|x| ph.is_none_or(|f| x.frame > f))
                .find(is_hit)
        } else {
            let f = ph?;
            t.iter().rev().filter(|x| x.frame < f).find(is_hit)
        }
        .map(|x| x.frame)
    }

    fn toggle_anomalies(&mut self) {
        if self.anomalies.take().is_some() {
            return;
        }
        let Some(d) = self.data.as_ref() else { return };
        let list = match (self.screen, self.conn_view.conn) {
            (Screen::Connection, Some(ci)) => AnomalyList::build(d, &[ci], false),
            _ => AnomalyList::build(d, &(0..d.len()).collect::<Vec<_>>(), true),
        };
        self.anomalies = Some(list);
    }

    fn anomaly_list_key(&mut self, a: Action) {
        let ph = self.play.playhead;
        let page = self.list_rows() as i64;
        let Some(l) = self.anomalies.as_mut() else {
            return;
        };
        let n = l.entries(ph).len() as i64;
        let delta = match a {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -page,
            Action::PageDown => page,
            _ => {
                if let Some((_, frame)) = l.target(ph) {
                    self.goto_frame(frame);
                }
                return;
            }
        };
        l.sel = (l.sel as i64 + delta).clamp(0, (n - 1).max(0)) as usize;
    }

    /// After the playhead moved onto `frame` while playing: stop there when it is an
    /// anomaly and playback pauses at anomalies.
    pub(super) fn pause_if_anomaly(&mut self) {
        if !self.play.pause_at_anomaly || !self.play.playing {
            return;
        }
        let Some(f) = self.play.playhead else { return };
        let Some(p) = self.packet_at(f) else { return };
        if let Some(m) = crate::explain::flag_marker(p) {
            self.play.playing = false;
            self.message = Some(format!("paused at frame {f}: {m} (p plays on)"));
        }
    }
}
