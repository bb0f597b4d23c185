//! Quiz mode in the terminal UI: `z` in step-through (or `tcpscope quiz FILE`). Before
//! the next packet is revealed it stays hidden (the playhead has not reached it) and
//! the overlay asks the prediction questions of `explain::quiz` (its flags, its ACK
//! number, the sender's next state); typed answers are checked against the capture, the
//! right answer is explained, the score sits in the status bar, and the packet appears
//! once its questions are done.
//!
//! Pure like `app`: `action::map_key` -> `QuizAction` -> `update` (in `app::quiz_mode`, with
//! the state); `render` only reads `&App`.
//! Packets that are not key packets (opening, closing, state changes, analysis flags,
//! first data each way) are revealed without questions, unless `all` is set.

use crate::escape::escape;
use crate::explain::quiz::{Kind, Verdict};
pub use crate::ui::action::QuizAction;
use crate::ui::app::App;
pub use crate::ui::app::quiz_mode::{Ask, Quiz, next_target, update};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// `tcpscope quiz FILE`: once connection `id` is loaded, open it with every packet
/// hidden and quiz mode on. Runs once (`started`); if the capture ends without that
/// connection, quiz mode starts on the connections list and the status bar says so.
pub fn start(app: &mut App, id: u64, kinds: &[Kind], all: bool, started: &mut bool) {
    let Some(d) = app.data.as_ref() else {
        return;
    };
    let found = d.rows.iter().position(|r| r.id == id);
    if *started || (found.is_none() && app.loading.is_some()) {
        return;
    }
    *started = true;
    if let Some(i) = found
        && let Some(pos) = app.table.visible.iter().position(|&v| v == i)
    {
        app.open_row(pos);
    }
    app.quiz = Some(Quiz::new(kinds.to_vec(), all));
    app.play.playing = false;
    crate::ui::app::quiz_mode::hide_all(app);
    app.message = Some(match found {
        Some(_) => format!("quiz on connection {id}: Space asks about the next packet; z ends"),
        None => format!("the capture has no connection {id}; quiz over the whole capture"),
    });
}

/// The status bar's quiz part.
pub fn status(app: &App) -> Option<String> {
    let q = app.quiz.as_ref()?;
    Some(format!(" quiz {} · z ends ", q.score))
}

/// The verdict line: right, wrong, unreadable or skipped.
pub fn verdict_line(answer: &str, v: &Verdict) -> String {
    if answer.is_empty() {
        format!("skipped: the answer is {}", v.expected)
    } else if v.correct {
        format!("✔ right: {}", v.expected)
    } else if v.unparsed {
        format!("✘ could not read {answer:?}; the answer is {}", v.expected)
    } else {
        format!("✘ not quite: the answer is {}", v.expected)
    }
}

/// The question overlay, over the lower part of `area`.
pub fn render(f: &mut Frame, app: &App, th: Theme, area: Rect) {
    let Some(quiz) = app.quiz.as_ref() else {
        return;
    };
    let Some(ask) = quiz.ask.as_ref() else {
        return;
    };
    let Some(q) = ask.questions.get(ask.current) else {
        return;
    };
    let mut lines = vec![
        Line::from(Span::styled(escape(&q.prompt), th.header())),
        Line::from(vec![
            Span::styled("> ", th.warn()),
            Span::raw(escape(&ask.input)),
            Span::raw(if ask.answered.is_none() { "▏" } else { "" }),
        ]),
    ];
    let footer = match &ask.answered {
        None => "Enter: check · empty Enter: skip this question · Esc: skip all, show the packet",
        Some((answer, v)) => {
            let style = if v.correct { th.state() } else { th.anomaly() };
            lines.push(Line::from(Span::styled(verdict_line(answer, v), style)));
            for s in &v.explanation {
                lines.push(Line::from(format!("  {}", escape(s))));
            }
            if ask.current + 1 < ask.questions.len() {
                "Enter: next question"
            } else {
                "Enter: show the packet"
            }
        }
    };
    lines.push(Line::from(Span::styled(footer, th.dim())));
    let width = area.width.saturating_sub(2).max(10);
    // Wrapped height, roughly: each line's width over the inner width.
    let inner = usize::from(width.saturating_sub(2).max(1));
    let needed: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let h = (needed as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + area.height - h,
        width,
        height: h,
    };
    let title = format!(
        " quiz: frame {} is hidden · question {}/{} · score {} ",
        q.frame,
        ask.current + 1,
        ask.questions.len(),
        quiz.score
    );
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
}
