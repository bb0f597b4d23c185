//! Playback of the `App`: the playhead stepping through the capture's timeline or the
//! open connection's packets, and playing at a pace. Part of `app`.

use crate::ui::action::Action;
use crate::ui::app::{App, Screen};
use crate::ui::playback::{StepFrames, step_index, wait_after};

impl App {
    pub(super) fn update_playback(&mut self, a: Action) {
        match a {
            Action::StepNext => self.step_next(),
            Action::StepPrev => {
                self.play.playing = false;
                self.step(false);
            }
            Action::PlayheadStart => {
                self.play.playing = false;
                self.play.playhead = None;
                self.step(true);
            }
            Action::PlayheadEnd => {
                self.play.playing = false;
                self.play.playhead = None;
                self.follow_playhead();
            }
            Action::TogglePlay => {
                let first_step = self.play.toggle();
                if first_step {
                    self.step(true);
                }
            }
            Action::Faster => self.play.faster(),
            Action::Slower => self.play.slower(),
            Action::Tick(ns) => self.tick(ns),
            _ => {}
        }
    }

    /// Stop playing and reveal the next packet (`Space`, and the quiz once a packet's
    /// questions are done).
    pub fn step_next(&mut self) {
        self.play.playing = false;
        self.step(true);
    }

    /// Frames the playhead steps through on the current screen, in frame order: the whole
    /// capture's timeline on the connections table, the open connection's packets on the
    /// connection screen. Borrowed from the loaded data, never copied.
    pub(super) fn step_frames(&self) -> StepFrames<'_> {
        match self.screen {
            Screen::Connection => StepFrames::Conn(self.packets()),
            Screen::Connections => {
                StepFrames::Capture(self.data.as_ref().map_or(&[], |d| &d.timeline[..]))
            }
        }
    }

    /// Move the playhead one packet (within the connection, or across the capture).
    pub(super) fn step(&mut self, forward: bool) {
        if self.data.is_none() {
            return;
        }
        let fr = self.step_frames();
        let next = step_index(fr.len(), |i| fr.at(i), self.play.playhead, forward)
            .map(|i| (fr.at(i).0, fr.conn(i)));
        match next {
            Some((frame, conn)) => {
                self.play.playhead = Some(frame);
                if let Some(pos) = conn.and_then(|ci| self.visible_row(ci)) {
                    self.table.sel = pos;
                }
                self.follow_playhead();
            }
            None if forward => {
                self.play.playing = false;
                self.message = Some("end of capture".into());
            }
            None => {}
        }
    }

    /// Keep the packet selection on the newest visible packet.
    pub(super) fn follow_playhead(&mut self) {
        if self.screen == Screen::Connection {
            let newest = self.visible_packets().len().saturating_sub(1);
            self.conn_view.select_packet(newest);
            self.conn_view.http_sel = self.visible_exchanges().saturating_sub(1);
        }
    }

    /// Timestamp (ns) of the packet after the playhead and the wait before it.
    pub(super) fn next_wait(&self) -> Option<i64> {
        let cur = self.play.playhead?;
        let fr = self.step_frames();
        wait_after(fr.len(), |i| fr.at(i), cur)
    }

    pub(super) fn tick(&mut self, real_ns: i64) {
        if !self.play.playing {
            return;
        }
        self.play.add_real(real_ns);
        // At most a bounded number of steps per tick, so a huge speed cannot stall.
        for _ in 0..1000 {
            match self.next_wait().map(|w| self.play.wait_for(w)) {
                Some(w) if self.play.accum >= w => {
                    self.play.accum -= w;
                    self.step(true);
                    self.pause_if_anomaly();
                    if !self.play.playing {
                        self.play.accum = 0;
                        return;
                    }
                }
                Some(_) => return,
                None => {
                    self.play.playing = false;
                    self.play.accum = 0;
                    return;
                }
            }
        }
    }
}
