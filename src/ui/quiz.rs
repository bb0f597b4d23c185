//! Quiz mode in the terminal UI: `z` in step-through (or `tcpscope quiz FILE`). Before
//! the next packet is revealed it stays hidden (the playhead has not reached it) and
//! the overlay asks the prediction questions of `explain::quiz` (its flags, its ACK
//! number, the sender's next state); typed answers are checked against the capture, the
//! right answer is explained, the score sits in the status bar, and the packet appears
//! once its questions are done.
//!
//! Pure like `app`: `action::map_key` -> `QuizAction` -> `update`; `render` only reads `&App`.
//! Packets that are not key packets (opening, closing, state changes, analysis flags,
//! first data each way) are revealed without questions, unless `all` is set.

use crate::escape::escape;
use crate::explain::ConnFacts;
use crate::explain::quiz::{self as logic, Kind, Question, Score, Verdict};
pub use crate::ui::action::QuizAction;
use crate::ui::action::QuizKeys;
use crate::ui::app::{App, Screen};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// Quiz mode's state.
#[derive(Clone, Debug)]
pub struct Quiz {
    pub kinds: Vec<Kind>,
    /// Ask about every packet, not only the key ones.
    pub all: bool,
    pub score: Score,
    /// Questions being asked about the hidden next packet.
    pub ask: Option<Ask>,
}

/// The questions about one hidden packet.
#[derive(Clone, Debug)]
pub struct Ask {
    /// Index of the connection in `Loaded::conns`.
    pub conn: usize,
    pub questions: Vec<Question>,
    pub current: usize,
    /// What has been typed so far.
    pub input: String,
    /// The answer given to the current question and its verdict, shown until Enter.
    pub answered: Option<(String, Verdict)>,
}

/// Longest answer kept.
const INPUT_CAP: usize = 64;

impl Quiz {
    pub fn new(kinds: Vec<Kind>, all: bool) -> Quiz {
        Quiz {
            kinds,
            all,
            score: Score::default(),
            ask: None,
        }
    }

    /// What quiz mode (`None`: off) makes of keys.
    pub fn keys(quiz: Option<&Quiz>) -> QuizKeys {
        match quiz.map(|q| q.ask.as_ref()) {
            None => QuizKeys::Off,
            Some(None) => QuizKeys::On,
            Some(Some(ask)) => QuizKeys::Asking {
                answering: ask.answered.is_none(),
            },
        }
    }
}

/// Apply a quiz action.
pub fn update(app: &mut App, a: QuizAction) {
    match a {
        QuizAction::Toggle => match app.quiz.take() {
            Some(q) => app.message = Some(format!("quiz off; score {}", q.score)),
            None => {
                app.quiz = Some(Quiz::new(Kind::ALL.to_vec(), false));
                app.play.playing = false;
                if app.play.playhead.is_none() {
                    hide_all(app);
                }
                app.message =
                    Some("quiz on: Space asks about the next packet before showing it".into());
            }
        },
        QuizAction::Next => ask_next(app),
        QuizAction::Char(c) => {
            if let Some(a) = ask_mut(app)
                && a.answered.is_none()
                && a.input.chars().count() < INPUT_CAP
                && !c.is_control()
            {
                a.input.push(c);
            }
        }
        QuizAction::Backspace => {
            if let Some(a) = ask_mut(app) {
                a.input.pop();
            }
        }
        QuizAction::Submit => submit(app),
        QuizAction::Skip => {
            if let Some(q) = app.quiz.as_mut()
                && q.ask.take().is_some()
            {
                app.reveal_next();
            }
        }
    }
}

fn ask_mut(app: &mut App) -> Option<&mut Ask> {
    app.quiz.as_mut()?.ask.as_mut()
}

/// `tcpscope quiz FILE`: once connection `id` is loaded, open it with every packet
/// hidden and quiz mode on. Runs once (`started`); if the capture ends without that
/// connection, quiz mode starts on the connections list and the status bar says so.
pub fn start(app: &mut App, id: u64, kinds: &[Kind], all: bool, started: &mut bool) {
    let Some(d) = app.data.as_ref() else {
        return;
    };
    let found = d.conns.iter().position(|c| c.id == id);
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
    hide_all(app);
    app.message = Some(match found {
        Some(_) => format!("quiz on connection {id}: Space asks about the next packet; z ends"),
        None => format!("the capture has no connection {id}; quiz over the whole capture"),
    });
}

/// Put the playhead before the first packet (of the open connection, or of the capture).
fn hide_all(app: &mut App) {
    let start = match (app.screen, app.conn()) {
        (Screen::Connection, Some(c)) => c.first_frame.saturating_sub(1),
        _ => 0,
    };
    app.play.playhead = Some(start);
    app.conn_view.pkt_sel = 0;
}

/// The packet the next step would reveal: (connection index, packet index).
pub fn next_target(app: &App) -> Option<(usize, usize)> {
    let d = app.data.as_ref()?;
    let after = |frame: u64| app.play.playhead.is_none_or(|f| frame > f);
    match app.screen {
        Screen::Connection => {
            let ci = app.conn_view.conn?;
            let cf = ConnFacts::of(d.conns.get(ci)?);
            let i = cf.packets.iter().position(|p| after(p.frame))?;
            Some((ci, i))
        }
        Screen::Connections => {
            let t = d.timeline.iter().find(|t| after(t.frame))?;
            let ci = t.conn as usize;
            let cf = ConnFacts::of(d.conns.get(ci)?);
            let i = cf.packets.iter().position(|p| p.frame == t.frame)?;
            Some((ci, i))
        }
    }
}

fn ask_next(app: &mut App) {
    if app.play.playhead.is_none() {
        hide_all(app);
    }
    let Some(mut quiz) = app.quiz.take() else {
        return;
    };
    let questions = match (next_target(app), app.data.as_ref()) {
        (Some((ci, i)), Some(d)) => {
            let cf = ConnFacts::of(&d.conns[ci]);
            let key = quiz.all || logic::key_positions(cf.packets).contains(&i);
            let qs = if key {
                logic::questions(&cf, i, &quiz.kinds)
            } else {
                Vec::new()
            };
            (!qs.is_empty()).then_some((ci, qs))
        }
        _ => None,
    };
    match questions {
        Some((conn, questions)) => {
            quiz.ask = Some(Ask {
                conn,
                questions,
                current: 0,
                input: String::new(),
                answered: None,
            });
            app.quiz = Some(quiz);
        }
        None => {
            app.quiz = Some(quiz);
            app.reveal_next();
        }
    }
}

fn submit(app: &mut App) {
    let Some(mut quiz) = app.quiz.take() else {
        return;
    };
    let mut reveal = false;
    if let Some(ask) = quiz.ask.as_mut() {
        if ask.answered.take().is_some() {
            ask.input.clear();
            ask.current += 1;
            reveal = ask.current >= ask.questions.len();
        } else if let (Some(q), Some(c)) = (
            ask.questions.get(ask.current),
            app.data.as_ref().and_then(|d| d.conns.get(ask.conn)),
        ) {
            let answer = ask.input.trim().to_string();
            let v = logic::check(&ConnFacts::of(c), q, &answer);
            if !answer.is_empty() {
                quiz.score.record(&v);
            }
            ask.answered = Some((answer, v));
        } else {
            reveal = true;
        }
    }
    if reveal {
        quiz.ask = None;
    }
    let score = quiz.score;
    app.quiz = Some(quiz);
    if reveal {
        app.reveal_next();
        app.message = Some(format!("revealed; score {score}"));
    }
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
