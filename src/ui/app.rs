//! The UI's state and its pure transitions: `map_key` turns a key into an [`Action`]
//! given the current mode, and [`App::update`] dispatches it to the state it concerns:
//! the connections table ([`TableState`]), the connection screen ([`ConnView`]), playback
//! ([`Playback`]) or the quiz. No terminal I/O here, so all of it is unit-testable; the
//! views only read `&App`.

mod loaded;
mod nav;
mod play;
pub mod quiz_mode;

use crate::http::Exchange;
use crate::pipeline::{CaptureStats, Connection};
use crate::stream::StreamData;
use crate::tcp::PacketRecord;
use crate::ui::action::{Action, KeyContext};
use crate::ui::bytes::{BytesError, FrameBytes};
use crate::ui::conn_view::ConnView;
use crate::ui::http_detail::{self, DetailLine, DetailOf};
use crate::ui::layout;
use crate::ui::model::{self, Loaded, Progress};
use crate::ui::playback::Playback;
pub use crate::ui::screen::{Screen, Tab};
use crate::ui::table::TableState;

/// The `:N` prompt being typed, as the status bar shows it (None: no prompt).
pub fn goto_prompt(app: &App) -> Option<String> {
    app.goto.as_ref().map(|s| format!("go to frame: {s}"))
}

/// The whole UI state.
pub struct App {
    pub source: String,
    pub loading: Option<Progress>,
    pub data: Option<Loaded>,
    pub error: Option<String>,
    pub screen: Screen,
    pub help: bool,
    pub present: bool,
    pub color: bool,
    pub quit: bool,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    pub table: TableState,
    pub conn_view: ConnView,
    pub play: Playback,
    /// Bytes of a packet (loaded by the runtime, not by `update`), or why they could not
    /// be read; for the frame they name, which may not be the one selected now (see
    /// [`App::selected_frame_bytes`]).
    pub frame_bytes: Option<Result<FrameBytes, BytesError>>,
    /// A connection's rebuilt streams, or why they could not be; for the connection they
    /// name (see [`App::open_stream`]).
    pub stream: Option<Result<StreamData, BytesError>>,
    pub message: Option<String>,
    /// Quiz mode (`z`): questions before each key packet is revealed.
    pub quiz: Option<quiz_mode::Quiz>,
    /// Whether the display of a live capture is frozen (`f`); None: not live, nothing to
    /// freeze.
    pub frozen: Option<bool>,
    /// The go-to-frame prompt (`:`): the digits typed so far.
    pub goto: Option<String>,
    /// The last key was `g`: a digit now opens the go-to-frame prompt (`g 9`).
    pub after_g: bool,
    /// The anomaly list (`e`), when open.
    pub anomalies: Option<crate::ui::anomalies::AnomalyList>,
    /// First line of the help shown (it scrolls on small terminals).
    pub help_scroll: usize,
    /// `w` asked for this connection (index in `data.rows`) as a pcap (`ui::save`).
    pub write_pcap: Option<usize>,
}

impl App {
    pub fn new(source: &str) -> App {
        App {
            source: source.to_string(),
            loading: Some(Progress::default()),
            data: None,
            error: None,
            screen: Screen::Connections,
            help: false,
            present: false,
            color: true,
            quit: false,
            size: (80, 24),
            table: TableState::default(),
            conn_view: ConnView::default(),
            play: Playback::default(),
            frame_bytes: None,
            stream: None,
            message: None,
            quiz: None,
            frozen: None,
            goto: None,
            after_g: false,
            anomalies: None,
            help_scroll: 0,
            write_pcap: None,
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

    /// [`App::add_conns`] for connections whole or compact (the file loader's).
    pub fn add_arrived(&mut self, conns: Vec<model::Arrived>) {
        match self.data.as_mut() {
            Some(d) => d.append_arrived(conns),
            None => {
                let mut d = Loaded::new(CaptureStats::default(), Vec::new());
                d.append_arrived(conns);
                self.data = Some(d);
            }
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

    /// The open connection with its whole analysis (None while a compact one is not
    /// analysed again: its [`App::row`] is there).
    pub fn conn(&self) -> Option<&Connection> {
        let d = self.data.as_ref()?;
        d.conn(self.conn_view.conn?)
    }

    /// The open connection's row (whole or compact).
    pub fn row(&self) -> Option<&model::RowInfo> {
        self.data.as_ref()?.rows.get(self.conn_view.conn?)
    }

    pub fn packets(&self) -> &[PacketRecord] {
        self.conn().map_or(&[], model::packets)
    }

    /// Packets visible as of the playhead.
    pub fn visible_packets(&self) -> &[PacketRecord] {
        let p = self.packets();
        match self.play.playhead {
            None => p,
            Some(f) => &p[..p.partition_point(|x| x.frame <= f)],
        }
    }

    /// The connection under the cursor of the connections table.
    pub fn selected_conn(&self) -> Option<usize> {
        self.table.selected_conn()
    }

    /// Row of connection `conn` (index into `data.rows`) in the connections table, if the
    /// filter shows it.
    pub fn visible_row(&self, conn: usize) -> Option<usize> {
        self.table.visible_row(conn)
    }

    /// Recompute the filtered, sorted list (keeps the selected connection when it stays).
    pub fn refilter(&mut self) {
        self.table.refilter(self.data.as_ref());
        self.fix_offsets();
    }

    // --- Geometry shared with the views -------------------------------------------

    /// Rows available for the list of the current screen/tab.
    pub fn list_rows(&self) -> usize {
        let tab = (self.screen == Screen::Connection).then_some(self.conn_view.tab);
        layout::list_rows(tab, self.size.1, self.present)
    }

    /// Lines of the current tab's scrolling pane: the transitions (States) and stream lines
    /// (Stream) as of the playhead, the selected exchange's detail (HTTP); 0 elsewhere.
    pub fn scroll_lines(&self) -> usize {
        if self.screen != Screen::Connection {
            return 0;
        }
        match self.conn_view.tab {
            Tab::States => {
                let Some(s) = self.conn().and_then(|c| c.summary.as_ref()) else {
                    return 0;
                };
                s.states
                    .client
                    .iter()
                    .chain(&s.states.server)
                    .filter(|t| self.play.shows(t.frame))
                    .count()
            }
            Tab::Stream => match self.open_stream() {
                Some(Ok(s)) => s.lines.iter().filter(|l| self.play.shows(l.frame)).count(),
                _ => 0,
            },
            Tab::Http => self.http_detail(60).len(),
            Tab::Graph => layout::GRAPH_ZOOM_LEVELS,
            Tab::Lanes => self.visible_exchanges(),
            Tab::Ladder | Tab::Packets => 0,
        }
    }

    /// Rows of the current tab's scrolling pane on screen.
    pub fn scroll_rows(&self) -> usize {
        let rows = layout::scroll_rows(self.conn_view.tab, self.size.1);
        // The Stream tab of a TLS connection has a line more above: what its bytes are.
        let tls = self.conn_view.tab == Tab::Stream
            && self.conn().is_some_and(|c| c.tls_info().is_some());
        rows - usize::from(tls && rows > 1)
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
        if self.conn_view.scroll > 0 {
            self.conn_view.scroll = self.conn_view.scroll.min(self.max_scroll());
        }
    }

    fn fix_offsets(&mut self) {
        let rows = self.list_rows();
        let t = &mut self.table;
        t.offset = layout::keep_visible(t.sel, t.offset, rows);
        let v = &mut self.conn_view;
        if self.screen == Screen::Connection && matches!(v.tab, Tab::Ladder | Tab::Packets) {
            v.pkt_offset = layout::keep_visible(v.pkt_sel, v.pkt_offset, rows);
        }
    }

    fn on_http_tab(&self) -> bool {
        self.screen == Screen::Connection && self.conn_view.tab == Tab::Http
    }

    // --- Updates ----------------------------------------------------------------------

    /// Apply an action: each kind goes to the state it concerns, then the lists and the
    /// pane are kept on screen.
    pub fn update(&mut self, a: Action) {
        use Action::*;
        if a == ToggleFreeze {
            // Touches nothing else (not even the message); a file has nothing to freeze.
            if let Some(f) = self.frozen.as_mut() {
                *f = !*f;
            }
            return;
        }
        self.message = None;
        let after_g = a == Action::Top;
        if self.update_nav(a) {
            self.after_g = false;
            self.fix_offsets();
            self.clamp_scroll();
            return;
        }
        self.after_g = after_g;
        match a {
            FilterStart | FilterChar(_) | FilterBackspace | FilterDone | FilterCancel
            | SortNext | SortReverse => self.table.update(a, self.screen, self.data.as_ref()),
            StepNext | StepPrev | PlayheadStart | PlayheadEnd | TogglePlay | Faster | Slower
            | Tick(_) => self.update_playback(a),
            Up | Down | ScrollUp | ScrollDown | PageUp | PageDown | Top | Bottom => {
                self.navigate(a)
            }
            SelectTab(t) => self.conn_view.set_tab(self.screen, t),
            NextTab => self
                .conn_view
                .set_tab(self.screen, self.conn_view.tab_after(1)),
            PrevTab => self
                .conn_view
                .set_tab(self.screen, self.conn_view.tab_after(Tab::ALL.len() - 1)),
            FieldNext | FieldPrev => {
                let (n, cur) = (self.tree().len(), self.current_field());
                self.conn_view.step_field(a == FieldNext, n, cur);
            }
            Quiz(q) => quiz_mode::update(self, q),
            Click { col, row } => self.click(col, row),
            Open => self.open(),
            Quit => self.quit = true,
            ToggleHelp => {
                self.help = !self.help;
                self.help_scroll = 0;
            }
            TogglePresent => self.present = !self.present,
            Back => self.back(),
            Resize(w, h) => self.size = (w, h),
            WritePcap => {
                self.write_pcap = match self.screen {
                    Screen::Connection => self.conn_view.conn,
                    Screen::Connections => self.selected_conn(),
                };
                if self.write_pcap.is_none() {
                    self.message = Some("w: no connection selected".into());
                }
            }
            ToggleFreeze | Goto(_) | NextAnomaly | PrevAnomaly | ToggleAnomalies | CyclePace
            | TogglePauseAtAnomaly | HelpScroll(_) => {}
        }
        self.fix_offsets();
        self.clamp_scroll();
    }

    fn back(&mut self) {
        if self.anomalies.is_some() {
            self.anomalies = None;
        } else if self.help {
            self.help = false;
        } else if self.screen == Screen::Connection {
            self.screen = Screen::Connections;
            self.play.playing = false;
        } else {
            self.quit = true;
        }
    }

    /// Moves of the cursor, or of the pane's scroll where the tab has one.
    fn navigate(&mut self, a: Action) {
        use Action::*;
        match a {
            // In the HTTP tab, paging and the wheel scroll the exchange's detail.
            ScrollUp | ScrollDown | PageUp | PageDown if self.on_http_tab() => {
                let page = layout::http_page(self.size.1);
                let s = self.conn_view.scroll;
                self.conn_view.scroll = match a {
                    ScrollUp => s.saturating_sub(3),
                    ScrollDown => s.saturating_add(3),
                    PageUp => s.saturating_sub(page),
                    _ => s.saturating_add(page),
                };
            }
            // States and Stream: the last page (not the last line alone at the top).
            Bottom
                if self.screen == Screen::Connection
                    && matches!(self.conn_view.tab, Tab::States | Tab::Stream | Tab::Lanes) =>
            {
                self.conn_view.scroll = self.last_page();
            }
            Up => self.move_sel(-1),
            Down => self.move_sel(1),
            ScrollUp => self.move_sel(-3),
            ScrollDown => self.move_sel(3),
            PageUp => self.move_sel(-(self.list_rows() as i64)),
            PageDown => self.move_sel(self.list_rows() as i64),
            Top => self.move_sel(i64::MIN / 2),
            _ => self.move_sel(i64::MAX / 2),
        }
    }

    /// The mode keys are read in (see [`crate::ui::action::map_key`]).
    pub fn key_context(&self) -> KeyContext {
        KeyContext {
            screen: self.screen,
            filter_editing: self.table.filter_editing,
            help: self.help,
            quiz: quiz_mode::Quiz::keys(self.quiz.as_ref()),
            goto: self.goto.is_some(),
            after_g: self.after_g,
            anomalies: self.anomalies.is_some(),
        }
    }

    /// `update(Action::StepNext)`: for the quiz, once a packet's questions are done.
    pub fn reveal_next(&mut self) {
        self.update(Action::StepNext);
    }

    /// `update(Action::Open)` on row `row` of the connections table.
    pub fn open_row(&mut self, row: usize) {
        self.table.sel = row;
        self.update(Action::Open);
    }

    fn open(&mut self) {
        match self.screen {
            Screen::Connections => {
                if let Some(i) = self.selected_conn() {
                    if self.conn_view.open(i) {
                        self.frame_bytes = None;
                        self.stream = None;
                    }
                    self.screen = Screen::Connection;
                    // A playhead before the connection began would show nothing.
                    if let (Some(f), Some(r)) = (self.play.playhead, self.row())
                        && f < r.first_frame
                    {
                        self.play.playhead = None;
                    }
                }
            }
            Screen::Connection if self.conn_view.tab == Tab::Ladder => {
                if !self.visible_packets().is_empty() {
                    self.conn_view.tab = Tab::Packets;
                    self.conn_view.field_sel = None;
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
        if self.screen == Screen::Connections {
            self.table.sel = mv(self.table.sel, self.table.visible.len());
            return;
        }
        match self.conn_view.tab {
            Tab::Ladder | Tab::Packets => {
                let new = mv(self.conn_view.pkt_sel, self.visible_packets().len());
                self.conn_view.select_packet(new);
            }
            Tab::Http => {
                let new = mv(self.conn_view.http_sel, self.visible_exchanges());
                self.conn_view.select_exchange(new);
            }
            Tab::States | Tab::Stream | Tab::Graph | Tab::Lanes => {
                let max = self.max_scroll() as i64;
                let s = &mut self.conn_view.scroll;
                *s = (*s as i64).saturating_add(delta).clamp(0, max) as usize;
            }
        }
    }

    /// Exchanges whose request has arrived as of the playhead.
    pub fn visible_exchanges(&self) -> usize {
        self.conn()
            .map_or(0, |c| self.play.exchanges_shown(&c.http))
    }

    /// The selected exchange of the open connection, if it is visible as of the playhead.
    pub fn selected_exchange(&self) -> Option<(&Connection, &Exchange)> {
        let (c, i) = (self.conn()?, self.conn_view.http_sel);
        let x = c.http.get(i).filter(|_| i < self.visible_exchanges())?;
        Some((c, x))
    }

    /// The lines of the selected exchange's detail (HTTP tab; none when no exchange is
    /// shown), for a pane `width` wide.
    pub fn http_detail(&self, width: u16) -> Vec<DetailLine> {
        let Some((conn, x)) = self.selected_exchange() else {
            return Vec::new();
        };
        let i = self.conn_view.http_sel;
        let of = DetailOf {
            conn,
            exchange: x,
            resp_done: self.play.response_done(x),
            req_body: self.body(i, false),
            resp_body: self.body(i, true),
            index: i,
            chunks: self.chunks_of(i),
        };
        http_detail::detail(&of, width)
    }

    fn click(&mut self, _col: u16, row: u16) {
        let Some(r) = row.checked_sub(layout::LIST_TOP).map(usize::from) else {
            return;
        };
        if self.screen == Screen::Connections {
            self.table.click(r);
            return;
        }
        let n = self.visible_packets().len();
        let (off, http_sel) = (self.conn_view.pkt_offset, self.conn_view.http_sel);
        match self.conn_view.tab {
            Tab::Ladder => {
                let i = off + if self.present { r / 2 } else { r };
                if i < n {
                    self.conn_view.pkt_sel = i;
                }
            }
            Tab::Packets if r < self.list_rows() && off + r < n => {
                self.conn_view.pkt_sel = off + r;
                self.conn_view.field_sel = None;
            }
            Tab::Http if r < layout::http_list_rows(self.size.1) => {
                let i = layout::http_list_offset(http_sel, self.size.1) + r;
                if i < self.visible_exchanges() {
                    self.conn_view.select_exchange(i);
                }
            }
            _ => {}
        }
    }
}
