//! The connection screen's state: the open connection, the tab, the selected packet,
//! header field and exchange, and the scroll of the detail pane. Pure; the `App` keeps it
//! within the packets and lines visible as of the playhead.

use crate::ui::screen::{Screen, Tab};

#[derive(Clone, Debug)]
pub struct ConnView {
    /// The open connection (index into `Loaded::rows`).
    pub conn: Option<usize>,
    pub tab: Tab,
    /// Selected packet (index into the connection's packet list).
    pub pkt_sel: usize,
    pub pkt_offset: usize,
    /// Selected field of the header tree.
    pub field_sel: Option<usize>,
    pub http_sel: usize,
    /// Scroll of the detail pane of the current tab (HTTP body, stream, states): the first
    /// line shown, kept within the pane's lines by `App::update` (see `App::max_scroll`).
    pub scroll: usize,
}

impl Default for ConnView {
    fn default() -> ConnView {
        ConnView {
            conn: None,
            tab: Tab::Ladder,
            pkt_sel: 0,
            pkt_offset: 0,
            field_sel: None,
            http_sel: 0,
            scroll: 0,
        }
    }
}

impl ConnView {
    /// Open connection `i` on its ladder; what was selected in another connection goes.
    /// True when `i` is another connection than the one open before.
    pub fn open(&mut self, i: usize) -> bool {
        let other = self.conn != Some(i);
        if other {
            *self = ConnView::default();
        }
        self.conn = Some(i);
        self.tab = Tab::Ladder;
        self.scroll = 0;
        other
    }

    /// Switch tab (only on the connection screen); the new tab's pane starts at the top.
    pub fn set_tab(&mut self, screen: Screen, t: Tab) {
        if screen == Screen::Connection {
            self.tab = t;
            self.scroll = 0;
        }
    }

    /// The tab `by` places along the row of tabs (wrapping).
    pub fn tab_after(&self, by: usize) -> Tab {
        Tab::ALL[(self.tab.idx() + by) % Tab::ALL.len()]
    }

    /// Select packet `i`; another packet's header field is not this one's.
    pub fn select_packet(&mut self, i: usize) {
        if i != self.pkt_sel {
            self.field_sel = None;
        }
        self.pkt_sel = i;
    }

    /// Select exchange `i`, its detail from the top.
    pub fn select_exchange(&mut self, i: usize) {
        self.http_sel = i;
        self.scroll = 0;
    }

    /// The next or previous of `n` header fields from `cur`.
    pub fn step_field(&mut self, next: bool, n: usize, cur: usize) {
        self.field_sel = Some(if next {
            (cur + 1).min(n.saturating_sub(1))
        } else {
            cur.saturating_sub(1)
        });
    }
}
