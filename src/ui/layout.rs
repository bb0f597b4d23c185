//! The screen's geometry, shared by the state (`app`: how far a page moves, which row a
//! click hits) and the views (how many rows they draw): the one place both read, so
//! neither imports the other for a row count.
//!
//! Every screen is a title row, the body and a status row; lists begin with a header row.

use crate::ui::screen::Tab;

/// Rows of the title bar.
pub const TITLE_ROWS: u16 = 1;
/// Zoom levels of the Graph tab (its scroll): level `z` shows 1/2^z of the connection.
pub const GRAPH_ZOOM_LEVELS: usize = 12;
/// Rows of the status bar.
pub const STATUS_ROWS: u16 = 1;
/// The screen row of a list's first entry: below the title bar and the list's header.
pub const LIST_TOP: u16 = 2;

/// Lines of the RFC 9293 diagram of the States tab.
pub const STATES_DIAGRAM_LINES: usize = 13;
/// Rows above the States tab's transition list: each side's title, the diagram, and the
/// line for transitions the drawing has no edge for.
pub const STATES_TOP_ROWS: u16 = STATES_DIAGRAM_LINES as u16 + 2;

/// Rows available for the list of the connection screen's `tab` (None: the connections
/// table) on a screen `h` rows high.
pub fn list_rows(tab: Option<Tab>, h: u16, present: bool) -> usize {
    match tab {
        Some(Tab::Ladder) => ladder_rows(h, present),
        // Presenter mode shows the ladder on the Packets tab too (`view::slide`).
        Some(Tab::Packets) if present => ladder_rows(h, present),
        Some(Tab::Packets) => packets_list_rows(h),
        Some(Tab::Http) => http_list_rows(h),
        _ => table_rows(h),
    }
}

/// Rows of `tab`'s scrolling pane on a screen `h` rows high.
pub fn scroll_rows(tab: Tab, h: u16) -> usize {
    match tab {
        Tab::States => states_list_rows(h),
        Tab::Stream => stream_rows(h),
        Tab::Lanes => lanes_rows(h),
        Tab::Http => http_detail_rows(h),
        Tab::Ladder | Tab::Packets | Tab::Graph => 1,
    }
}

/// Rows of the Lanes tab: its heading, time axis and legend aside.
pub fn lanes_rows(h: u16) -> usize {
    usize::from(h).saturating_sub(5).max(1)
}

/// Rows of the connections table (below its header).
pub fn table_rows(h: u16) -> usize {
    usize::from(h).saturating_sub(4).max(1)
}

/// Rows of the Ladder tab's arrows: one a packet, two in presenter mode (where the
/// explanation takes the bottom of the screen).
pub fn ladder_rows(h: u16, present: bool) -> usize {
    let rows = usize::from(h).saturating_sub(5).max(1);
    if present {
        (rows.saturating_sub(usize::from(slide_explanation_rows(h))) / 2).max(1)
    } else {
        rows
    }
}

/// Rows of presenter mode's explanation pane (a third of the screen, 6 to 12 rows).
pub fn slide_explanation_rows(h: u16) -> u16 {
    (h / 3).clamp(6, 12)
}

/// Rows of the packet list in the Packets tab (the rest shows the selected packet).
pub fn packets_list_rows(h: u16) -> usize {
    (usize::from(h).saturating_sub(3) * 2 / 5)
        .saturating_sub(1)
        .max(1)
}

/// Rows of the exchange list in the HTTP tab.
pub fn http_list_rows(h: u16) -> usize {
    (usize::from(h).saturating_sub(3) / 4).max(2)
}

/// Rows of the HTTP tab's detail pane (below the exchange list and its top border).
pub fn http_detail_rows(h: u16) -> usize {
    usize::from(h).saturating_sub(4 + http_list_rows(h)).max(1)
}

/// How far paging moves the HTTP tab's detail.
pub fn http_page(h: u16) -> usize {
    usize::from(h).saturating_sub(4).max(1)
}

/// Rows of the States tab's transition list (below the two diagrams and its header).
pub fn states_list_rows(h: u16) -> usize {
    usize::from(h)
        .saturating_sub(3 + usize::from(STATES_TOP_ROWS))
        .max(1)
}

/// Rows of stream lines in the Stream tab (below its byte counts).
pub fn stream_rows(h: u16) -> usize {
    usize::from(h).saturating_sub(3).max(1)
}

/// The first exchange shown in the HTTP tab's list: the list scrolls only as far as
/// keeps the selected one on its last row.
pub fn http_list_offset(sel: usize, h: u16) -> usize {
    sel.saturating_sub(http_list_rows(h).saturating_sub(1))
}

/// Smallest scroll change that keeps `sel` inside a window of `rows` starting at `offset`.
pub fn keep_visible(sel: usize, offset: usize, rows: usize) -> usize {
    let rows = rows.max(1);
    if sel < offset {
        sel
    } else if sel >= offset + rows {
        sel + 1 - rows
    } else {
        offset
    }
}
