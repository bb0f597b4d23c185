//! Where the UI is: the screen shown and the tabs of the connection screen. Plain
//! enums, shared by the state (`app`), the key map (`action`) and the views.

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
    Graph,
    /// HTTP exchanges as lanes over time (a waterfall).
    Lanes,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Ladder,
        Tab::Packets,
        Tab::States,
        Tab::Http,
        Tab::Stream,
        Tab::Graph,
        Tab::Lanes,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Ladder => "1 Ladder",
            Tab::Packets => "2 Packets",
            Tab::States => "3 States",
            Tab::Http => "4 HTTP",
            Tab::Stream => "5 Stream",
            Tab::Graph => "6 Graph",
            Tab::Lanes => "7 Lanes",
        }
    }

    pub(crate) fn idx(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}
