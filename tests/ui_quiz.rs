//! Quiz mode in the TUI as pure Key -> Action -> update (and one render on
//! ratatui's TestBackend): `z` toggles it, Space asks before the packet is revealed,
//! typed answers are checked, the score is kept, Esc skips.

mod common;

use common::ui::{key, press, single, typed};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::PathBuf;
use tcpscope::explain::quiz::Kind;
use tcpscope::ui::action::{Action, map_key};
use tcpscope::ui::app::{App, Screen};
use tcpscope::ui::quiz::{self, QuizAction};
use tcpscope::ui::view;

fn answer(app: &mut App, s: &str) {
    typed(app, s);
    press(app, KeyCode::Enter);
}

/// http-get.pcap, connection 1 open, quiz on (every packet hidden).
fn quizzing() -> App {
    let mut app = single("http-get.pcap");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Connection);
    press(&mut app, KeyCode::Char('z'));
    app
}

fn asking(app: &App) -> Option<&quiz::Ask> {
    app.quiz.as_ref()?.ask.as_ref()
}

fn score(app: &App) -> (u32, u32) {
    let s = app.quiz.as_ref().unwrap().score;
    (s.right, s.asked)
}

#[test]
fn z_maps_to_toggle_and_space_to_next_only_in_quiz_mode() {
    let mut app = single("http-get.pcap");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        map_key(&app.key_context(), key(KeyCode::Char('z'))),
        Some(Action::Quiz(QuizAction::Toggle))
    );
    assert_eq!(
        map_key(&app.key_context(), key(KeyCode::Char(' '))),
        Some(Action::StepNext)
    );
    press(&mut app, KeyCode::Char('z'));
    for k in [KeyCode::Char(' '), KeyCode::Right, KeyCode::Char('l')] {
        assert_eq!(
            map_key(&app.key_context(), key(k)),
            Some(Action::Quiz(QuizAction::Next))
        );
    }
    // Playing would reveal packets unasked.
    assert_eq!(map_key(&app.key_context(), key(KeyCode::Char('p'))), None);
}

#[test]
fn z_toggles_quiz_mode_and_hides_the_connection() {
    let mut app = quizzing();
    assert!(app.quiz.is_some());
    assert_eq!(app.play.playhead, Some(0));
    assert!(app.visible_packets().is_empty());
    press(&mut app, KeyCode::Char('z'));
    assert!(app.quiz.is_none());
    assert!(app.message.as_deref().unwrap().contains("quiz off"));
}

#[test]
fn space_asks_before_revealing_and_keeps_score() {
    let mut app = quizzing();
    press(&mut app, KeyCode::Char(' '));
    let ask = asking(&app).expect("a question");
    assert_eq!(ask.questions[0].frame, 1);
    assert_eq!(ask.questions[0].kind, Kind::Flags);
    // The SYN is not acknowledging: flags and state only.
    assert_eq!(ask.questions.len(), 2);
    assert_eq!(app.play.playhead, Some(0), "still hidden");

    answer(&mut app, "syn");
    let (a, v) = asking(&app).unwrap().answered.clone().unwrap();
    assert_eq!(a, "syn");
    assert!(v.correct);
    assert_eq!(score(&app), (1, 1));
    press(&mut app, KeyCode::Enter);
    assert_eq!(asking(&app).unwrap().current, 1);
    assert_eq!(
        app.play.playhead,
        Some(0),
        "hidden until the last question is done"
    );

    answer(&mut app, "established");
    let (_, v) = asking(&app).unwrap().answered.clone().unwrap();
    assert!(!v.correct);
    assert_eq!(v.expected, "SYN-SENT");
    assert!(quiz::verdict_line("established", &v).contains("not quite: the answer is SYN-SENT"));
    assert_eq!(score(&app), (1, 2));
    press(&mut app, KeyCode::Enter);
    assert!(asking(&app).is_none());
    assert_eq!(app.play.playhead, Some(1), "revealed");
    assert_eq!(app.visible_packets().len(), 1);
    assert!(app.message.as_deref().unwrap().contains("1/2"));
}

#[test]
fn ack_question_accepts_the_relative_number() {
    let mut app = quizzing();
    press(&mut app, KeyCode::Esc); // not asking yet: Esc would leave the connection
    assert_eq!(app.screen, Screen::Connections);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Esc); // skip the SYN's questions: revealed
    assert_eq!(app.play.playhead, Some(1));
    press(&mut app, KeyCode::Char(' '));
    let ask = asking(&app).unwrap();
    assert_eq!(ask.questions[0].frame, 2);
    let kinds: Vec<Kind> = ask.questions.iter().map(|q| q.kind).collect();
    assert_eq!(kinds, [Kind::Flags, Kind::Ack, Kind::NextState]);
    answer(&mut app, "SA");
    press(&mut app, KeyCode::Enter);
    answer(&mut app, "ack 1");
    assert!(asking(&app).unwrap().answered.as_ref().unwrap().1.correct);
    press(&mut app, KeyCode::Enter);
    answer(&mut app, "syn_recv");
    assert!(asking(&app).unwrap().answered.as_ref().unwrap().1.correct);
    assert_eq!(score(&app), (3, 3));
}

#[test]
fn typing_goes_to_the_answer_not_to_other_keys() {
    let mut app = quizzing();
    press(&mut app, KeyCode::Char(' '));
    typed(&mut app, "qz?1");
    assert!(!app.quit && !app.help);
    assert!(app.quiz.is_some());
    assert_eq!(asking(&app).unwrap().input, "qz?1");
    press(&mut app, KeyCode::Backspace);
    assert_eq!(asking(&app).unwrap().input, "qz?");
    // An unreadable answer counts as wrong and says so.
    press(&mut app, KeyCode::Enter);
    let (a, v) = asking(&app).unwrap().answered.clone().unwrap();
    assert!(v.unparsed && !v.correct);
    assert!(quiz::verdict_line(&a, &v).contains("could not read"));
    // Ctrl-C still quits.
    if let Some(a) = map_key(
        &app.key_context(),
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
    ) {
        app.update(a);
    }
    assert!(app.quit);
}

#[test]
fn empty_answer_skips_without_scoring() {
    let mut app = quizzing();
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Enter);
    let (a, v) = asking(&app).unwrap().answered.clone().unwrap();
    assert_eq!(a, "");
    assert_eq!(quiz::verdict_line(&a, &v), "skipped: the answer is SYN");
    assert_eq!(score(&app), (0, 0));
}

#[test]
fn only_key_packets_are_asked_and_the_whole_connection_can_be_walked() {
    let mut app = quizzing();
    let (mut asked, mut silent) = (0, 0);
    for _ in 0..40 {
        let before = app.play.playhead;
        press(&mut app, KeyCode::Char(' '));
        if asking(&app).is_some() {
            asked += 1;
            press(&mut app, KeyCode::Esc);
        } else if app.play.playhead != before {
            silent += 1;
        } else {
            break;
        }
    }
    assert_eq!(asked + silent, 12, "every packet revealed once");
    assert!(
        asked >= 6 && silent >= 1,
        "asked {asked}, revealed silently {silent}"
    );
    assert_eq!(app.message.as_deref(), Some("end of capture"));
}

#[test]
fn quiz_start_opens_the_connection_with_everything_hidden() {
    let mut app = single("http-keepalive.pcap");
    let mut started = false;
    quiz::start(&mut app, 1, &[Kind::Flags], true, &mut started);
    assert!(started);
    assert_eq!(app.screen, Screen::Connection);
    assert_eq!(app.play.playhead, Some(0));
    let q = app.quiz.as_ref().unwrap();
    assert!(q.all);
    assert_eq!(q.kinds, [Kind::Flags]);
    // With `all`, even a pure ACK is asked about; only the flags.
    for _ in 0..5 {
        press(&mut app, KeyCode::Char(' '));
        assert_eq!(asking(&app).unwrap().questions.len(), 1);
        press(&mut app, KeyCode::Esc);
    }
    assert_eq!(app.play.playhead, Some(5));
}

#[test]
fn overlay_and_status_bar_are_drawn() {
    let mut app = quizzing();
    app.color = false;
    press(&mut app, KeyCode::Char(' '));
    typed(&mut app, "S");
    let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
    term.draw(|f| view::render(f, &app)).unwrap();
    let screen: String = term
        .backend()
        .buffer()
        .content()
        .chunks(100)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
        .collect();
    assert!(screen.contains("quiz: frame 1 is hidden"), "{screen}");
    assert!(screen.contains("Which flags does it carry?"), "{screen}");
    assert!(screen.contains("> S"), "{screen}");
    assert!(screen.contains("quiz 0/0 (0%)"), "{screen}");
    assert!(
        !screen.contains("SYN seq=0"),
        "the packet stays hidden: {screen}"
    );
}

#[test]
fn text_flag_keeps_the_line_based_quiz() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpscope"))
        .args(["quiz", "--text", "--max", "1"])
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/http-get.pcap"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"syn\nsyn-sent\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Score: 2/2 (100%)"), "{text}");
}

/// Space until a question is asked (packets without one are revealed on the way).
fn step_to_question(app: &mut App) {
    for _ in 0..50 {
        if asking(app).is_some() {
            return;
        }
        press(app, KeyCode::Char(' '));
    }
}

/// The capture's connection 1 open in quiz mode asking `kinds` only.
fn quiz_on(name: &str, kinds: &[Kind]) -> App {
    let mut app = single(name);
    let mut started = false;
    quiz::start(&mut app, 1, kinds, false, &mut started);
    assert!(started);
    app
}

#[test]
fn tls_question_asks_which_message_comes_next() {
    // tls12-h2: ClientHello (4); ServerHello, Certificate, ServerKeyExchange,
    // ServerHelloDone (6); ClientKeyExchange, ChangeCipherSpec, {Finished} (8);
    // ChangeCipherSpec, {Finished} (9): all in clear but the Finished messages.
    let mut app = quiz_on("tls/tls12-h2.pcap", &[Kind::Tls]);
    step_to_question(&mut app);
    let q = &asking(&app).expect("a question").questions[0];
    assert_eq!((q.kind, q.frame), (Kind::Tls, 6));
    assert!(
        q.prompt.contains("client's ClientHello (frame 4)"),
        "{}",
        q.prompt
    );
    assert!(q.prompt.contains(") ServerHello"), "{}", q.prompt);
    // The packets before the question were revealed unasked; frame 6 is still hidden.
    assert!(app.visible_packets().iter().all(|p| p.frame < 6));
    answer(&mut app, "serverhello");
    let (ans, v) = asking(&app).unwrap().answered.clone().unwrap();
    assert_eq!(ans, "serverhello");
    assert!(v.correct && v.expected == "ServerHello", "{v:?}");
    assert!(
        v.explanation[0].contains(
            "ServerHello TLS 1.2 CHACHA20_POLY1305, Certificate, ServerKeyExchange, ServerHelloDone"
        ),
        "{v:?}"
    );
    assert!(v.explanation[1].starts_with("TLS 1.2"), "{v:?}");
    assert_eq!(score(&app), (1, 1));
    press(&mut app, KeyCode::Enter); // next: frame 6 revealed
    step_to_question(&mut app);
    let q = asking(&app).unwrap().questions[0].clone();
    assert_eq!(q.frame, 8);
    // By number: the choice list is sorted by name; pick one that is not the answer.
    let wrong = if q.prompt.contains("1) ClientKeyExchange") {
        "2"
    } else {
        "1"
    };
    answer(&mut app, wrong);
    let (_, v) = asking(&app).unwrap().answered.clone().unwrap();
    assert!(!v.correct && v.expected == "ClientKeyExchange", "{v:?}");
    assert_eq!(score(&app), (1, 2));
    // The overlay shows the question and its choices at 80x24 without cutting a word.
    app.update(Action::Resize(80, 24));
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| view::render(f, &app)).unwrap();
}

#[test]
fn tls_question_in_the_line_quiz_and_only_on_tls() {
    let conns = tcpscope::classroom::load(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("captures/tls/tls12-h2.pcap")
            .to_str()
            .unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    let s = tcpscope::classroom::quiz_lines(
        &conns[0],
        &[Kind::Tls],
        false,
        0,
        &mut "ServerHello\nClientKeyExchange\nFinished\n".as_bytes(),
        &mut out,
    )
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("which message comes next?"), "{out}");
    // Frames 6, 8 and 9 (the server's ChangeCipherSpec passed over: Finished).
    assert_eq!((s.right, s.asked), (3, 3), "{out}");
    let plain = tcpscope::classroom::load(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("captures/http-get.pcap")
            .to_str()
            .unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    let s = tcpscope::classroom::quiz_lines(
        &plain[0],
        &[Kind::Tls],
        false,
        0,
        &mut "".as_bytes(),
        &mut out,
    )
    .unwrap();
    assert_eq!(s.asked, 0);
    assert_eq!(Kind::parse("tls"), Some(Kind::Tls));
}
