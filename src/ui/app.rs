//! The UI's state and its pure transitions: `map_key` turns a key into an [`Action`]
//! given the current mode, and [`App::update`] applies it. No terminal I/O here, so all
//! of it is unit-testable; the views only read `&App`.

use crate::pipeline::{CaptureStats, Connection};
use crate::stream::StreamData;
use crate::tcp::PacketRecord;
use crate::ui::action::Action;
use crate::ui::bytes::{BytesError, FrameBytes};
use crate::ui::layout;
use crate::ui::model::{self, Column, Loaded, Progress};
use crate::ui::playback::{SPEED_1X, SPEEDS, StepFrames, step_index, wait_after};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Connections,
    Connection,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Ladder,
    Packets,
    States,
    Http,
    Stream,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Ladder,
        Tab::Packets,
        Tab::States,
        Tab::Http,
        Tab::Stream,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Ladder => "1 Ladder",
            Tab::Packets => "2 Packets",
            Tab::States => "3 States",
            Tab::Http => "4 HTTP",
            Tab::Stream => "5 Stream",
        }
    }

    fn idx(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// The whole UI state.
pub struct App {
    pub source: String,
    pub loading: Option<Progress>,
    pub data: Option<Loaded>,
    pub error: Option<String>,
    pub screen: Screen,
    pub tab: Tab,
    pub help: bool,
    pub present: bool,
    pub color: bool,
    pub quit: bool,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    // Connections table.
    pub filter: String,
    pub filter_editing: bool,
    /// Indices into `data.conns`, filtered and sorted.
    pub visible: Vec<usize>,
    /// Inverse of `visible`: each connection's row in it (None: filtered out); rebuilt with
    /// it by [`App::refilter`], so finding a connection's row needs no walk of the table.
    visible_pos: Vec<Option<usize>>,
    pub sort: Column,
    pub sort_rev: bool,
    pub sel: usize,
    pub offset: usize,
    // Connection view.
    pub conn: Option<usize>,
    /// Selected packet (index into the connection's packet list).
    pub pkt_sel: usize,
    pub pkt_offset: usize,
    /// Selected field of the header tree.
    pub field_sel: Option<usize>,
    pub http_sel: usize,
    /// Scroll of the detail pane of the current tab (HTTP body, stream, states): the first
    /// line shown, kept within the pane's lines by `update` (see [`App::max_scroll`]).
    pub scroll: usize,
    /// Show the capture as of this frame (None: everything).
    pub playhead: Option<u64>,
    pub playing: bool,
    pub speed: usize,
    /// Virtual nanoseconds accumulated towards the next packet while playing.
    pub play_accum: i64,
    /// Bytes of a packet (loaded by the runtime, not by `update`), or why they could not
    /// be read; for the frame they name, which may not be the one selected now (see
    /// [`App::selected_frame_bytes`]).
    pub frame_bytes: Option<Result<FrameBytes, BytesError>>,
    /// A connection's rebuilt streams, or why they could not be; for the connection they
    /// name (see [`App::open_stream`]).
    pub stream: Option<Result<StreamData, BytesError>>,
    pub message: Option<String>,
    /// Quiz mode (`z`): questions before each key packet is revealed.
    pub quiz: Option<crate::ui::quiz::Quiz>,
    /// Whether the display of a live capture is frozen (`f`); None: not live, nothing to
    /// freeze.
    pub frozen: Option<bool>,
}

impl App {
    pub fn new(source: &str) -> App {
        App {
            source: source.to_string(),
            loading: Some(Progress::default()),
            data: None,
            error: None,
            screen: Screen::Connections,
            tab: Tab::Ladder,
            help: false,
            present: false,
            color: true,
            quit: false,
            size: (80, 24),
            filter: String::new(),
            filter_editing: false,
            visible: Vec::new(),
            visible_pos: Vec::new(),
            sort: Column::Id,
            sort_rev: false,
            sel: 0,
            offset: 0,
            conn: None,
            pkt_sel: 0,
            pkt_offset: 0,
            field_sel: None,
            http_sel: 0,
            scroll: 0,
            playhead: None,
            playing: false,
            speed: SPEED_1X,
            play_accum: 0,
            frame_bytes: None,
            stream: None,
            message: None,
            quiz: None,
            frozen: None,
        }
    }

    /// Colour unless NO_COLOR is set to a non-empty value (<https://no-color.org>).
    pub fn color_from_env() -> bool {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }

    /// Connections that finished while loading goes on: shown at once.
    pub fn add_conns(&mut self, conns: Vec<Connection>) {
        match self.data.as_mut() {
            Some(d) => d.append(conns),
            None => self.data = Some(Loaded::new(CaptureStats::default(), conns)),
        }
        self.refilter();
    }

    /// Loading ended: the final capture facts.
    pub fn finish_loading(&mut self, stats: CaptureStats) {
        self.loading = None;
        match self.data.as_mut() {
            Some(d) => d.stats = stats,
            None => self.data = Some(Loaded::new(stats, Vec::new())),
        }
        self.refilter();
    }

    pub fn set_loaded(&mut self, data: Loaded) {
        self.loading = None;
        self.data = Some(data);
        self.refilter();
    }

    pub fn conn(&self) -> Option<&Connection> {
        let d = self.data.as_ref()?;
        d.conns.get(self.conn?)
    }

    pub fn packets(&self) -> &[PacketRecord] {
        self.conn().map_or(&[], model::packets)
    }

    /// Packets visible as of the playhead.
    pub fn visible_packets(&self) -> &[PacketRecord] {
        let p = self.packets();
        match self.playhead {
            None => p,
            Some(f) => &p[..p.partition_point(|x| x.frame <= f)],
        }
    }

    /// The connection under the cursor of the connections table.
    pub fn selected_conn(&self) -> Option<usize> {
        self.visible.get(self.sel).copied()
    }

    /// Row of connection `conn` (index into `data.conns`) in the connections table, if the
    /// filter shows it: O(1) through the inverse index kept by [`App::refilter`].
    pub fn visible_row(&self, conn: usize) -> Option<usize> {
        match self.visible_pos.get(conn) {
            Some(&Some(row)) if self.visible.get(row) == Some(&conn) => Some(row),
            Some(&None) => None,
            // Out of step with `visible` (a connection added since the last refilter):
            // answer from the table itself.
            _ => self.visible.iter().position(|&v| v == conn),
        }
    }

    /// Recompute the filtered, sorted list (keeps the selected connection when it stays).
    pub fn refilter(&mut self) {
        let keep = self.selected_conn();
        let Some(d) = self.data.as_ref() else {
            self.visible.clear();
            self.visible_pos.clear();
            return;
        };
        let f = self.filter.trim();
        let mut v: Vec<usize> = (0..d.conns.len())
            .filter(|&i| f.is_empty() || d.rows[i].matches(f))
            .collect();
        let col = self.sort;
        if col != Column::Id {
            v.sort_by(|&a, &b| d.cmp(col, a, b));
        }
        if self.sort_rev {
            v.reverse();
        }
        let mut pos = vec![None; d.conns.len()];
        for (row, &i) in v.iter().enumerate() {
            pos[i] = Some(row);
        }
        self.visible = v;
        self.visible_pos = pos;
        self.sel = keep.and_then(|k| self.visible_row(k)).unwrap_or(0);
        self.offset = 0;
        self.fix_offsets();
    }

    // --- Geometry shared with the views -------------------------------------------

    /// Rows available for the list of the current screen/tab.
    pub fn list_rows(&self) -> usize {
        let h = self.size.1;
        match (self.screen, self.tab) {
            (Screen::Connection, Tab::Ladder) => layout::ladder_rows(h, self.present),
            (Screen::Connection, Tab::Packets) => layout::packets_list_rows(h),
            (Screen::Connection, Tab::Http) => layout::http_list_rows(h),
            _ => layout::table_rows(h),
        }
    }

    /// Lines of the current tab's scrolling pane: the transitions (States) and stream lines
    /// (Stream) as of the playhead, the selected exchange's detail (HTTP); 0 elsewhere.
    pub fn scroll_lines(&self) -> usize {
        if self.screen != Screen::Connection {
            return 0;
        }
        match self.tab {
            Tab::States => {
                let Some(s) = self.conn().and_then(|c| c.summary.as_ref()) else {
                    return 0;
                };
                s.states
                    .client
                    .iter()
                    .chain(&s.states.server)
                    .filter(|t| self.playhead.is_none_or(|f| t.frame <= f))
                    .count()
            }
            Tab::Stream => match self.open_stream() {
                Some(Ok(s)) => s
                    .lines
                    .iter()
                    .filter(|l| self.playhead.is_none_or(|f| l.frame <= f))
                    .count(),
                _ => 0,
            },
            Tab::Http => crate::ui::view::http_detail_len(self),
            Tab::Ladder | Tab::Packets => 0,
        }
    }

    /// Rows of the current tab's scrolling pane on screen.
    pub fn scroll_rows(&self) -> usize {
        match self.tab {
            Tab::States => layout::states_list_rows(self.size.1),
            Tab::Stream => layout::stream_rows(self.size.1),
            Tab::Http => layout::http_detail_rows(self.size.1),
            Tab::Ladder | Tab::Packets => 1,
        }
    }

    /// The furthest the pane scrolls: its last line at the top.
    pub fn max_scroll(&self) -> usize {
        self.scroll_lines().saturating_sub(1)
    }

    /// The scroll that shows the pane's last page.
    pub fn last_page(&self) -> usize {
        self.scroll_lines().saturating_sub(self.scroll_rows())
    }

    /// Keep the scroll within the pane's lines (they shrink as the playhead goes back,
    /// with another exchange, or another connection).
    fn clamp_scroll(&mut self) {
        if self.scroll > 0 {
            self.scroll = self.scroll.min(self.max_scroll());
        }
    }

    fn fix_offsets(&mut self) {
        let rows = self.list_rows();
        self.offset = layout::keep_visible(self.sel, self.offset, rows);
        if self.screen == Screen::Connection && matches!(self.tab, Tab::Ladder | Tab::Packets) {
            self.pkt_offset = layout::keep_visible(self.pkt_sel, self.pkt_offset, rows);
        }
    }

    // --- Updates ----------------------------------------------------------------------

    pub fn update(&mut self, a: Action) {
        if a == Action::ToggleFreeze {
            // Touches nothing else (not even the message); a file has nothing to freeze.
            if let Some(f) = self.frozen.as_mut() {
                *f = !*f;
            }
            return;
        }
        self.message = None;
        match a {
            Action::Quit => self.quit = true,
            Action::ToggleHelp => self.help = !self.help,
            Action::TogglePresent => self.present = !self.present,
            Action::Back => {
                if self.help {
                    self.help = false;
                } else if self.screen == Screen::Connection {
                    self.screen = Screen::Connections;
                    self.playing = false;
                } else {
                    self.quit = true;
                }
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::FilterStart if self.screen == Screen::Connections => {
                self.filter_editing = true;
            }
            Action::FilterStart => {}
            Action::FilterChar(c) => {
                self.filter.push(c);
                self.refilter();
            }
            Action::FilterBackspace => {
                self.filter.pop();
                self.refilter();
            }
            Action::FilterDone => self.filter_editing = false,
            Action::FilterCancel => {
                self.filter_editing = false;
                self.filter.clear();
                self.refilter();
            }
            Action::SortNext => {
                let i = Column::ALL
                    .iter()
                    .position(|c| *c == self.sort)
                    .unwrap_or(0);
                self.sort = Column::ALL[(i + 1) % Column::ALL.len()];
                self.refilter();
            }
            Action::SortReverse => {
                self.sort_rev = !self.sort_rev;
                self.refilter();
            }
            Action::Open => self.open(),
            Action::SelectTab(t) => self.set_tab(t),
            Action::NextTab => self.set_tab(Tab::ALL[(self.tab.idx() + 1) % 5]),
            Action::PrevTab => self.set_tab(Tab::ALL[(self.tab.idx() + 4) % 5]),
            Action::Up => self.move_sel(-1),
            Action::Down => self.move_sel(1),
            // In the HTTP tab, paging and the wheel scroll the exchange's detail.
            Action::ScrollUp | Action::ScrollDown | Action::PageUp | Action::PageDown
                if self.screen == Screen::Connection && self.tab == Tab::Http =>
            {
                let page = layout::http_page(self.size.1);
                self.scroll = match a {
                    Action::ScrollUp => self.scroll.saturating_sub(3),
                    Action::ScrollDown => self.scroll.saturating_add(3),
                    Action::PageUp => self.scroll.saturating_sub(page),
                    _ => self.scroll.saturating_add(page),
                };
            }
            Action::ScrollUp => self.move_sel(-3),
            Action::ScrollDown => self.move_sel(3),
            Action::PageUp => self.move_sel(-(self.list_rows() as i64)),
            Action::PageDown => self.move_sel(self.list_rows() as i64),
            Action::Top => self.move_sel(i64::MIN / 2),
            // States and Stream: the last page (not the last line alone at the top).
            Action::Bottom
                if self.screen == Screen::Connection
                    && matches!(self.tab, Tab::States | Tab::Stream) =>
            {
                self.scroll = self.last_page();
            }
            Action::Bottom => self.move_sel(i64::MAX / 2),
            Action::FieldNext | Action::FieldPrev => {
                let n = self.tree().len();
                let cur = self.current_field();
                self.field_sel = Some(if a == Action::FieldNext {
                    (cur + 1).min(n.saturating_sub(1))
                } else {
                    cur.saturating_sub(1)
                });
            }
            Action::StepNext => {
                self.playing = false;
                self.step(true);
            }
            Action::StepPrev => {
                self.playing = false;
                self.step(false);
            }
            Action::PlayheadStart => {
                self.playing = false;
                self.playhead = None;
                self.step(true);
            }
            Action::PlayheadEnd => {
                self.playing = false;
                self.playhead = None;
                self.follow_playhead();
            }
            Action::TogglePlay => {
                self.playing = !self.playing;
                self.play_accum = 0;
                if self.playing && self.playhead.is_none() {
                    self.step(true);
                }
            }
            Action::Faster => self.speed = (self.speed + 1).min(SPEEDS.len() - 1),
            Action::Slower => self.speed = self.speed.saturating_sub(1),
            Action::Tick(ns) => self.tick(ns),
            Action::Quiz(q) => crate::ui::quiz::update(self, q),
            Action::Click { col, row } => self.click(col, row),
            Action::ToggleFreeze => {}
        }
        self.fix_offsets();
        self.clamp_scroll();
    }

    fn set_tab(&mut self, t: Tab) {
        if self.screen == Screen::Connection {
            self.tab = t;
            self.scroll = 0;
        }
    }

    fn open(&mut self) {
        match self.screen {
            Screen::Connections => {
                if let Some(i) = self.selected_conn() {
                    if self.conn != Some(i) {
                        self.frame_bytes = None;
                        self.stream = None;
                        self.pkt_sel = 0;
                        self.pkt_offset = 0;
                        self.http_sel = 0;
                        self.field_sel = None;
                    }
                    self.conn = Some(i);
                    self.screen = Screen::Connection;
                    self.tab = Tab::Ladder;
                    self.scroll = 0;
                    // A playhead before the connection began would show nothing.
                    if let (Some(f), Some(c)) = (self.playhead, self.conn())
                        && f < c.first_frame
                    {
                        self.playhead = None;
                    }
                }
            }
            Screen::Connection if self.tab == Tab::Ladder => {
                if !self.visible_packets().is_empty() {
                    self.tab = Tab::Packets;
                    self.field_sel = None;
                }
            }
            Screen::Connection => {}
        }
    }

    fn move_sel(&mut self, delta: i64) {
        let mv = |cur: usize, n: usize| -> usize {
            if n == 0 {
                return 0;
            }
            (cur as i64).saturating_add(delta).clamp(0, n as i64 - 1) as usize
        };
        match self.screen {
            Screen::Connections => self.sel = mv(self.sel, self.visible.len()),
            Screen::Connection => match self.tab {
                Tab::Ladder | Tab::Packets => {
                    let n = self.visible_packets().len();
                    let new = mv(self.pkt_sel, n);
                    if new != self.pkt_sel {
                        self.field_sel = None;
                    }
                    self.pkt_sel = new;
                }
                Tab::Http => {
                    let n = self.visible_exchanges();
                    self.http_sel = mv(self.http_sel, n);
                    self.scroll = 0;
                }
                Tab::States | Tab::Stream => {
                    let max = self.max_scroll() as i64;
                    self.scroll = (self.scroll as i64).saturating_add(delta).clamp(0, max) as usize;
                }
            },
        }
    }

    /// Exchanges whose request has arrived as of the playhead.
    pub fn visible_exchanges(&self) -> usize {
        let Some(c) = self.conn() else { return 0 };
        match self.playhead {
            None => c.http.len(),
            Some(f) => c
                .http
                .iter()
                .filter(|x| x.request.as_ref().is_some_and(|r| r.end_frame <= f))
                .count(),
        }
    }

    /// Frames the playhead steps through on the current screen, in frame order: the whole
    /// capture's timeline on the connections table, the open connection's packets on the
    /// connection screen. Borrowed from the loaded data, never copied.
    fn step_frames(&self) -> StepFrames<'_> {
        match self.screen {
            Screen::Connection => StepFrames::Conn(self.packets()),
            Screen::Connections => {
                StepFrames::Capture(self.data.as_ref().map_or(&[], |d| &d.timeline[..]))
            }
        }
    }

    /// Move the playhead one packet (within the connection, or across the capture).
    fn step(&mut self, forward: bool) {
        if self.data.is_none() {
            return;
        }
        let fr = self.step_frames();
        let next = step_index(fr.len(), |i| fr.at(i), self.playhead, forward)
            .map(|i| (fr.at(i).0, fr.conn(i)));
        match next {
            Some((frame, conn)) => {
                self.playhead = Some(frame);
                if let Some(pos) = conn.and_then(|ci| self.visible_row(ci)) {
                    self.sel = pos;
                }
                self.follow_playhead();
            }
            None if forward => {
                self.playing = false;
                self.message = Some("end of capture".into());
            }
            None => {}
        }
    }

    /// Keep the packet selection on the newest visible packet.
    fn follow_playhead(&mut self) {
        if self.screen == Screen::Connection {
            let n = self.visible_packets().len();
            let new = n.saturating_sub(1);
            if new != self.pkt_sel {
                self.field_sel = None;
            }
            self.pkt_sel = new;
            self.http_sel = self.visible_exchanges().saturating_sub(1);
        }
    }

    /// Timestamp (ns) of the packet after the playhead and the wait before it.
    fn next_wait(&self) -> Option<i64> {
        let cur = self.playhead?;
        let fr = self.step_frames();
        wait_after(fr.len(), |i| fr.at(i), cur)
    }

    fn tick(&mut self, real_ns: i64) {
        if !self.playing {
            return;
        }
        self.play_accum += (real_ns as f64 * SPEEDS[self.speed]) as i64;
        // At most a bounded number of steps per tick, so a huge speed cannot stall.
        for _ in 0..1000 {
            match self.next_wait() {
                Some(w) if self.play_accum >= w => {
                    self.play_accum -= w;
                    self.step(true);
                }
                Some(_) => return,
                None => {
                    self.playing = false;
                    self.play_accum = 0;
                    return;
                }
            }
        }
    }

    fn click(&mut self, _col: u16, row: u16) {
        let Some(r) = row.checked_sub(layout::LIST_TOP).map(usize::from) else {
            return;
        };
        match self.screen {
            Screen::Connections => {
                let i = self.offset + r;
                if i < self.visible.len() {
                    self.sel = i;
                }
            }
            Screen::Connection => match self.tab {
                Tab::Ladder => {
                    let r = if self.present { r / 2 } else { r };
                    let i = self.pkt_offset + r;
                    if i < self.visible_packets().len() {
                        self.pkt_sel = i;
                    }
                }
                Tab::Packets if r < self.list_rows() => {
                    let i = self.pkt_offset + r;
                    if i < self.visible_packets().len() {
                        self.pkt_sel = i;
                        self.field_sel = None;
                    }
                }
                Tab::Http
                    if r < layout::http_list_rows(self.size.1)
                        && layout::http_list_offset(self.http_sel, self.size.1) + r
                            < self.visible_exchanges() =>
                {
                    self.http_sel = layout::http_list_offset(self.http_sel, self.size.1) + r;
                    self.scroll = 0;
                }
                _ => {}
            },
        }
    }

    /// Header tree of the loaded frame when it is the selected packet's.
    pub fn tree(&self) -> Vec<crate::decode::tree::Field> {
        match self.selected_frame_bytes() {
            Some(Ok(fb)) => fb.tree(),
            _ => Vec::new(),
        }
    }

    /// The selected packet's bytes, or why they could not be read; None while they are
    /// being read (what is cached for another frame is not this packet's).
    pub fn selected_frame_bytes(&self) -> Option<Result<&FrameBytes, &BytesError>> {
        let fr = self.visible_packets().get(self.pkt_sel)?.frame;
        match self.frame_bytes.as_ref()? {
            Ok(fb) if fb.frame == fr => Some(Ok(fb)),
            Err(e) if e.is_for(fr) => Some(Err(e)),
            _ => None,
        }
    }

    /// The open connection's rebuilt streams, or why they could not be rebuilt; None while
    /// they are being rebuilt (what is cached for another connection is not this one's).
    pub fn open_stream(&self) -> Option<Result<&StreamData, &BytesError>> {
        let id = self.conn()?.id;
        match self.stream.as_ref()? {
            Ok(s) if s.conn_id == id => Some(Ok(s)),
            Err(e) if e.is_for(id) => Some(Err(e)),
            _ => None,
        }
    }

    /// The selected header field: by default the TCP header.
    pub fn current_field(&self) -> usize {
        self.field_sel.unwrap_or_else(|| {
            self.tree()
                .iter()
                .position(|f| f.depth == 0 && f.text.starts_with("Transmission Control"))
                .unwrap_or(0)
        })
    }

    /// The frame whose bytes the Packets tab wants (the runtime loads it).
    pub fn wanted_frame(&self) -> Option<u64> {
        if self.screen != Screen::Connection || self.tab != Tab::Packets {
            return None;
        }
        self.visible_packets().get(self.pkt_sel).map(|p| p.frame)
    }

    /// The body of exchange `i` of the open connection: from the on-demand rebuild (the
    /// analysis keeps no bodies), else from the analysis itself (live mode).
    pub fn body(&self, i: usize, response: bool) -> Option<&[u8]> {
        fn from(x: &crate::http::Exchange, response: bool) -> Option<&[u8]> {
            if response {
                x.response.as_ref()?.body.as_deref()
            } else {
                x.request.as_ref()?.body.as_deref()
            }
        }
        if let Some(Ok(s)) = self.open_stream()
            && let Some(b) = s.http.get(i).and_then(|x| from(x, response))
        {
            return Some(b);
        }
        self.conn()?.http.get(i).and_then(|x| from(x, response))
    }

    /// The connection whose stream the Stream and HTTP tabs want rebuilt.
    pub fn wanted_stream(&self) -> Option<u64> {
        if self.screen != Screen::Connection || !matches!(self.tab, Tab::Stream | Tab::Http) {
            return None;
        }
        self.conn().map(|c| c.id)
    }
}
