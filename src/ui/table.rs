//! The connections table's state: the filter being typed, the sort, the rows it shows
//! (filtered and sorted indices into `Loaded::rows`) and the cursor. Pure; the `App`
//! hands it the loaded data and the table's own actions.

use crate::ui::action::Action;
use crate::ui::model::{Column, Loaded};
use crate::ui::screen::Screen;

#[derive(Clone, Debug)]
pub struct TableState {
    pub filter: String,
    pub filter_editing: bool,
    /// Indices into `data.rows`, filtered and sorted.
    pub visible: Vec<usize>,
    /// Inverse of `visible`: each connection's row in it ([`HIDDEN`]: filtered out);
    /// rebuilt with it by [`TableState::refilter`], so finding a connection's row needs no
    /// walk of the table. (4 bytes a connection: the table of a million rows.)
    visible_pos: Vec<u32>,
    pub sort: Column,
    pub sort_rev: bool,
    pub sel: usize,
    pub offset: usize,
}

/// `visible_pos` of a connection the filter hides.
const HIDDEN: u32 = u32::MAX;

impl Default for TableState {
    fn default() -> TableState {
        TableState {
            filter: String::new(),
            filter_editing: false,
            visible: Vec::new(),
            visible_pos: Vec::new(),
            sort: Column::Id,
            sort_rev: false,
            sel: 0,
            offset: 0,
        }
    }
}

impl TableState {
    /// The connection under the cursor.
    pub fn selected_conn(&self) -> Option<usize> {
        self.visible.get(self.sel).copied()
    }

    /// Row of connection `conn` (index into `data.rows`), if the filter shows it: O(1)
    /// through the inverse index kept by [`TableState::refilter`].
    pub fn visible_row(&self, conn: usize) -> Option<usize> {
        match self.visible_pos.get(conn).map(|&r| r as usize) {
            Some(row) if self.visible.get(row) == Some(&conn) => Some(row),
            Some(row) if row == HIDDEN as usize => None,
            // Out of step with `visible` (a connection added since the last refilter):
            // answer from the table itself.
            _ => self.visible.iter().position(|&v| v == conn),
        }
    }

    /// Recompute the filtered, sorted rows (keeps the selected connection when it stays);
    /// the offset goes back to the top (the `App` then keeps the cursor on screen).
    pub fn refilter(&mut self, data: Option<&Loaded>) {
        let keep = self.selected_conn();
        let Some(d) = data else {
            self.visible.clear();
            self.visible_pos.clear();
            return;
        };
        let f = self.filter.trim();
        // The vectors are refilled in place: no second million-row table while loading.
        let mut v = std::mem::take(&mut self.visible);
        v.clear();
        v.extend((0..d.len()).filter(|&i| f.is_empty() || d.matches(i, f)));
        let col = self.sort;
        if col != Column::Id {
            v.sort_by(|&a, &b| d.cmp(col, a, b));
        }
        if self.sort_rev {
            v.reverse();
        }
        let mut pos = std::mem::take(&mut self.visible_pos);
        pos.clear();
        pos.resize(d.len(), HIDDEN);
        for (row, &i) in v.iter().enumerate() {
            pos[i] = row as u32;
        }
        self.visible = v;
        self.visible_pos = pos;
        self.sel = keep.and_then(|k| self.visible_row(k)).unwrap_or(0);
        self.offset = 0;
    }

    /// The table's own actions: the filter and the sort.
    pub fn update(&mut self, a: Action, screen: Screen, data: Option<&Loaded>) {
        match a {
            Action::FilterStart if screen == Screen::Connections => self.filter_editing = true,
            Action::FilterChar(c) => self.filter.push(c),
            Action::FilterBackspace => {
                self.filter.pop();
            }
            Action::FilterDone => self.filter_editing = false,
            Action::FilterCancel => {
                self.filter_editing = false;
                self.filter.clear();
            }
            Action::SortNext => {
                let i = Column::ALL
                    .iter()
                    .position(|c| *c == self.sort)
                    .unwrap_or(0);
                self.sort = Column::ALL[(i + 1) % Column::ALL.len()];
            }
            Action::SortReverse => self.sort_rev = !self.sort_rev,
            _ => return,
        }
        if !matches!(a, Action::FilterStart | Action::FilterDone) {
            self.refilter(data);
        }
    }

    /// Select row `i` if there is one.
    pub fn click(&mut self, r: usize) {
        let i = self.offset + r;
        if i < self.visible.len() {
            self.sel = i;
        }
    }
}
