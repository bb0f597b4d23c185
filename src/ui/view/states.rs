//! The States tab: the RFC 9293 diagram for each endpoint with the path taken drawn
//! heavy, and the list of transitions with their reasons.

use crate::flow::Dir;
use crate::pipeline::Connection;
use crate::tcp::state::{TcpState, Transition};
use crate::ui::app::App;
use crate::ui::fit::{Piece, cut_words, fit_pieces};
use crate::ui::layout;
use crate::ui::model::states_at;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The RFC 9293 state diagram, compact. State names are located by text search; the
/// edges are the connector cells listed in [`EDGES`].
const DIAGRAM: [&str; layout::STATES_DIAGRAM_LINES] = [
    "             CLOSED",
    "           /        \\",
    "     LISTEN          SYN-SENT",
    "        |               |",
    "  SYN-RECEIVED <--------|",
    "           \\           /",
    "           ESTABLISHED",
    "          /           \\",
    "   FIN-WAIT-1        CLOSE-WAIT",
    "    |        \\           |",
    "  FIN-WAIT-2  CLOSING  LAST-ACK",
    "       \\       /         |",
    "       TIME-WAIT       CLOSED",
];

/// The line of the second CLOSED (after LAST-ACK); the first is on line 0.
const FINAL_CLOSED_LINE: usize = 12;

/// An edge of the drawing: from, to, and its connector cells (line, column).
type Edge = (TcpState, TcpState, &'static [(usize, usize)]);

/// Each edge of the drawing.
const EDGES: &[Edge] = {
    use TcpState::*;
    &[
        (Closed, Listen, &[(1, 11)]),
        (Closed, SynSent, &[(1, 20)]),
        (Listen, SynReceived, &[(3, 8)]),
        (
            SynSent,
            SynReceived,
            &[
                (3, 24),
                (4, 24),
                (4, 23),
                (4, 22),
                (4, 21),
                (4, 20),
                (4, 19),
                (4, 18),
                (4, 17),
                (4, 16),
                (4, 15),
            ],
        ),
        (SynSent, Established, &[(3, 24), (4, 24), (5, 23)]),
        (SynReceived, Established, &[(5, 11)]),
        (Established, FinWait1, &[(7, 10)]),
        (Established, CloseWait, &[(7, 22)]),
        (FinWait1, FinWait2, &[(9, 4)]),
        (FinWait1, Closing, &[(9, 13)]),
        (CloseWait, LastAck, &[(9, 25)]),
        (FinWait2, TimeWait, &[(11, 7)]),
        (Closing, TimeWait, &[(11, 15)]),
        (LastAck, Closed, &[(11, 25)]),
    ]
};

/// The drawn edges a transition follows: its own, or for FIN-WAIT-1 → TIME-WAIT (the ACK
/// of our FIN and the peer's FIN in one segment) the ACK's edge then the FIN's, as RFC 9293
/// processes them. None: an edge the drawing leaves out (resets, timeouts, refusals).
fn drawn_path(from: TcpState, to: TcpState) -> Option<Vec<(TcpState, TcpState)>> {
    use TcpState::*;
    if EDGES.iter().any(|(a, b, _)| (*a, *b) == (from, to)) {
        return Some(vec![(from, to)]);
    }
    match (from, to) {
        (FinWait1, TimeWait) => Some(vec![(FinWait1, FinWait2), (FinWait2, TimeWait)]),
        _ => None,
    }
}

/// The heavy glyph of a connector on the path taken (it reads without colour too).
fn heavy(ch: char) -> char {
    match ch {
        '|' => '┃',
        '/' => '╱',
        '\\' => '╲',
        '-' => '━',
        '<' => '◀',
        c => c,
    }
}

/// The path `transitions` took over the drawing.
struct Taken {
    /// Drawn edges followed.
    edges: Vec<(TcpState, TcpState)>,
    /// Transitions the drawing has no edge for, as text.
    off: Vec<String>,
    visited: Vec<TcpState>,
    /// Which CLOSED is the current one: the last, once LAST-ACK's edge led there.
    at_final_closed: bool,
    /// Cells (line, column) of the connectors on the path.
    heavy_cells: Vec<(usize, usize)>,
}

impl Taken {
    fn of(transitions: &[&Transition]) -> Taken {
        let mut t = Taken {
            edges: Vec::new(),
            off: Vec::new(),
            visited: vec![TcpState::Closed],
            at_final_closed: false,
            heavy_cells: Vec::new(),
        };
        for x in transitions {
            match drawn_path(x.from, x.state) {
                Some(path) => {
                    t.at_final_closed = path.last() == Some(&(TcpState::LastAck, TcpState::Closed));
                    for (a, b) in path {
                        t.visited.push(b);
                        t.edges.push((a, b));
                    }
                }
                None => {
                    t.at_final_closed = false;
                    t.visited.push(x.state);
                    t.off
                        .push(format!("{} → {} (frame {})", x.from, x.state, x.frame));
                }
            }
        }
        t.heavy_cells = EDGES
            .iter()
            .filter(|(a, b, _)| t.edges.contains(&(*a, *b)))
            .flat_map(|(_, _, cells)| cells.iter().copied())
            .collect();
        t
    }

    /// The style of state `s`'s name on diagram line `y`: current, visited or not.
    fn state_style(&self, s: TcpState, y: usize, current: TcpState, th: Theme) -> Style {
        let (is_current, was_visited) = if s == TcpState::Closed {
            let last = y == FINAL_CLOSED_LINE;
            let final_closed_visited = self.edges.contains(&(TcpState::LastAck, TcpState::Closed));
            (
                current == TcpState::Closed && last == self.at_final_closed,
                !last || final_closed_visited,
            )
        } else {
            (s == current, self.visited.contains(&s))
        };
        if is_current {
            th.highlight().add_modifier(Modifier::BOLD)
        } else if was_visited {
            th.state()
        } else {
            th.dim()
        }
    }
}

/// The diagram with the path taken by `transitions` drawn heavy, the states visited in
/// the state style and `current` highlighted; then one line naming the transitions the
/// drawing has no edge for.
fn diagram_lines(transitions: &[&Transition], current: TcpState, th: Theme) -> Vec<Line<'static>> {
    let taken = Taken::of(transitions);
    let mut out: Vec<Line<'static>> = DIAGRAM
        .iter()
        .enumerate()
        .map(|(y, l)| diagram_line(y, l, &taken, current, th))
        .collect();
    if !taken.off.is_empty() {
        out.push(Line::from(vec![
            Span::styled("not drawn: ", th.dim()),
            Span::styled(taken.off.join(", "), th.state()),
        ]));
    }
    out
}

/// Line `y` of the diagram: state names styled by [`Taken::state_style`], connectors
/// heavy on the path taken.
fn diagram_line(y: usize, l: &str, taken: &Taken, current: TcpState, th: Theme) -> Line<'static> {
    let mut spans = Vec::new();
    let mut x = 0;
    let mut rest: &str = l;
    while !rest.is_empty() {
        // Longest state name starting here.
        let hit = TcpState::ALL
            .iter()
            .filter(|s| rest.starts_with(s.name()))
            .max_by_key(|s| s.name().len());
        match hit {
            Some(s) => {
                let st = taken.state_style(*s, y, current, th);
                spans.push(Span::styled(s.name().to_string(), st));
                rest = &rest[s.name().len()..];
                x += s.name().len();
            }
            None => {
                let ch = rest.chars().next().unwrap_or(' ');
                let span = if taken.heavy_cells.contains(&(y, x)) {
                    Span::styled(heavy(ch).to_string(), th.state())
                } else {
                    Span::styled(ch.to_string(), th.dim())
                };
                spans.push(span);
                rest = &rest[ch.len_utf8()..];
                x += 1;
            }
        }
    }
    Line::from(spans)
}

/// `FROM → TO`, through the states RFC 9293 passes on the way (as the ladder and the
/// diagram draw it).
fn transition_text(t: &Transition) -> String {
    let mut s = t.from.name().to_string();
    for st in crate::ui::model::state_path(t.from, t.state) {
        s.push_str(" → ");
        s.push_str(st.name());
    }
    s
}

fn transitions_at(c: &Connection, dir: Dir, at: Option<u64>) -> Vec<&Transition> {
    let Some(s) = &c.summary else {
        return Vec::new();
    };
    let v = match dir {
        Dir::Client => &s.states.client,
        Dir::Server => &s.states.server,
    };
    v.iter()
        .filter(|t| at.is_none_or(|f| t.frame <= f))
        .collect()
}

pub(super) fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(c) = app.conn() else { return };
    let now = states_at(c, app.play.playhead);
    let ct = transitions_at(c, Dir::Client, app.play.playhead);
    let st = transitions_at(c, Dir::Server, app.play.playhead);
    let [top, bottom] = Layout::vertical([
        Constraint::Length(layout::STATES_TOP_ROWS),
        Constraint::Min(1),
    ])
    .areas(area);
    render_diagrams(f, c, th, top, now, [&ct, &st]);
    let lines = transition_list(app, &ct, &st, th, bottom.width);
    f.render_widget(Paragraph::new(lines), bottom);
}

/// A diagram's title: the side, its address and its state now, fitted to `w` cells (the
/// address goes first, then the side).
fn title(side: &str, addr: String, now: TcpState, w: u16) -> String {
    fit_pieces(
        &[
            Piece::new(side, 2),
            Piece::new(addr, 3),
            Piece::new(format!("— now {now}"), 1),
        ],
        usize::from(w),
    )
}

/// Both endpoints' diagrams in `top`. Each is 33 cells wide: side by side from 68
/// columns; below that the client's alone, the server's state in its title (the list
/// below has both sides).
fn render_diagrams(
    f: &mut Frame,
    c: &Connection,
    th: Theme,
    top: Rect,
    (cs, ss): (TcpState, TcpState),
    [ct, st]: [&[&Transition]; 2],
) {
    let both = top.width >= 68;
    let [l, r] = if both {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top)
    } else {
        Layout::horizontal([Constraint::Min(1), Constraint::Length(0)]).areas(top)
    };
    let mut cl = vec![Line::styled(
        title("client", c.client.to_string(), cs, l.width),
        th.client(),
    )];
    if !both {
        cl.push(Line::styled(
            title("server", c.server.to_string(), ss, l.width),
            th.server(),
        ));
    }
    cl.extend(diagram_lines(ct, cs, th));
    f.render_widget(Paragraph::new(cl), l);
    if both {
        let mut sl = vec![Line::styled(
            title("server", c.server.to_string(), ss, r.width),
            th.server(),
        )];
        sl.extend(diagram_lines(st, ss, th));
        f.render_widget(Paragraph::new(sl), r);
    }
}

/// The transition list under the diagrams, both endpoints merged by frame, from the
/// scroll position on: the transition column as wide as its longest entry, the rest of
/// `width` for the reason.
fn transition_list(
    app: &App,
    ct: &[&Transition],
    st: &[&Transition],
    th: Theme,
    width: u16,
) -> Vec<Line<'static>> {
    let mut all: Vec<(Dir, &Transition)> = ct.iter().map(|t| (Dir::Client, *t)).collect();
    all.extend(st.iter().map(|t| (Dir::Server, *t)));
    all.sort_by_key(|(d, t)| (t.frame, d.idx()));
    let tw = all
        .iter()
        .map(|(_, t)| transition_text(t).chars().count())
        .max()
        .unwrap_or(0)
        .max(10);
    let mut lines = vec![Line::styled(
        format!("{:>6}  {:<6}  {:<tw$}  why", "frame", "side", "transition"),
        th.header(),
    )];
    // `update` keeps the scroll within the list; this only guards a list that shrank since.
    for (d, t) in all
        .iter()
        .skip(app.conn_view.scroll.min(all.len().saturating_sub(1)))
    {
        lines.push(Line::from(vec![
            Span::raw(format!("{:>6}  ", t.frame)),
            Span::styled(format!("{:<6}  ", d.name()), th.side(*d)),
            Span::styled(format!("{:<tw$}", transition_text(t)), th.state()),
            Span::raw(cut_words(
                &format!(
                    "  {}{}",
                    t.reason,
                    if t.inferred { " (inferred)" } else { "" }
                ),
                usize::from(width).saturating_sub(6 + 2 + 6 + 2 + tw),
            )),
        ]));
    }
    lines
}

#[cfg(test)]
mod diagram_tests {
    use super::*;

    /// Every edge cell is a connector of the drawing, and each edge touches its states:
    /// a cell of the edge is next to (or on the line after) the `from` name and one is
    /// next to (or on the line before) the `to` name.
    #[test]
    fn edges_are_connectors_between_their_states() {
        let at = |y: usize, x: usize| DIAGRAM.get(y).and_then(|l| l.chars().nth(x));
        let spans = |st: TcpState| -> Vec<(usize, usize, usize)> {
            DIAGRAM
                .iter()
                .enumerate()
                .flat_map(|(y, l)| {
                    l.match_indices(st.name())
                        // "CLOSED" is not part of a longer name in the drawing.
                        .map(move |(x, m)| (y, x, x + m.len()))
                })
                .collect()
        };
        let near = |cell: (usize, usize), st: TcpState| {
            spans(st).iter().any(|&(y, x0, x1)| {
                cell.0.abs_diff(y) == 1 && cell.1 + 2 >= x0 && cell.1 <= x1 + 1
                    || cell.0 == y && (cell.1 + 2 == x0 || cell.1 == x1 + 1)
            })
        };
        for (from, to, cells) in EDGES {
            for &(y, x) in *cells {
                assert!(
                    matches!(at(y, x), Some('|' | '/' | '\\' | '-' | '<')),
                    "{from} → {to}: ({y},{x}) is {:?}",
                    at(y, x)
                );
            }
            assert!(
                cells.iter().any(|c| near(*c, *from)),
                "{from} → {to} leaves nowhere"
            );
            assert!(
                cells.iter().any(|c| near(*c, *to)),
                "{from} → {to} arrives nowhere"
            );
        }
        // Every connector in the drawing (outside the names) belongs to an edge.
        let in_name = |y: usize, x: usize| {
            TcpState::ALL.iter().any(|st| {
                spans(*st)
                    .iter()
                    .any(|&(sy, x0, x1)| sy == y && x >= x0 && x < x1)
            })
        };
        for (y, l) in DIAGRAM.iter().enumerate() {
            for (x, ch) in l.chars().enumerate() {
                if "|/\\-<".contains(ch) && !in_name(y, x) {
                    assert!(
                        EDGES.iter().any(|(_, _, c)| c.contains(&(y, x))),
                        "({y},{x}) {ch:?} is in no edge"
                    );
                }
            }
        }
    }
}
