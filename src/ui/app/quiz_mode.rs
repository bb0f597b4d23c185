//! Quiz mode's state and its transitions (see `ui::quiz` for what it is): part of `app`,
//! since every step of it moves the `App`'s playhead, selection and message.

use crate::explain::ConnFacts;
use crate::explain::quiz::{self as logic, Kind, Question, Score, Verdict};
use crate::ui::action::{QuizAction, QuizKeys};
use crate::ui::app::{App, Screen};

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
    /// Index of the connection in `Loaded::rows`.
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

/// Put the playhead before the first packet (of the open connection, or of the capture).
pub(crate) fn hide_all(app: &mut App) {
    let start = match (app.screen, app.row()) {
        (Screen::Connection, Some(r)) => r.first_frame.saturating_sub(1),
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
            let cf = ConnFacts::of(d.conn(ci)?);
            let i = cf.packets.iter().position(|p| after(p.frame))?;
            Some((ci, i))
        }
        Screen::Connections => {
            let t = d.timeline.iter().find(|t| after(t.frame))?;
            let ci = t.conn as usize;
            let cf = ConnFacts::of(d.conn(ci)?);
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
            let c = d.conn(ci).expect("a connection");
            let cf = ConnFacts::of(c);
            let key = quiz.all || logic::key_positions_for(c, &cf).contains(&i);
            let qs = if key {
                logic::questions_for(c, &cf, i, &quiz.kinds)
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
            app.data.as_ref().and_then(|d| d.conn(ask.conn)),
        ) {
            let answer = ask.input.trim().to_string();
            let v = logic::check_for(c, &ConnFacts::of(c), q, &answer);
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
