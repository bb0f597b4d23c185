//! Key -> Action: every input the UI understands, as data, and the maps from keys and
//! mouse events to it for the current mode ([`KeyContext`], which the `App` builds).
//! `App::update` applies an action; nothing here reads or changes the `App`.

use crate::ui::screen::{Screen, Tab};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    Quit,
    Back,
    ToggleHelp,
    TogglePresent,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    SelectTab(Tab),
    NextTab,
    PrevTab,
    StepNext,
    StepPrev,
    PlayheadStart,
    PlayheadEnd,
    TogglePlay,
    Faster,
    Slower,
    FilterStart,
    FilterChar(char),
    FilterBackspace,
    FilterDone,
    FilterCancel,
    SortNext,
    SortReverse,
    FieldNext,
    FieldPrev,
    Click {
        col: u16,
        row: u16,
    },
    ScrollUp,
    ScrollDown,
    /// Real time passed (for playback), in nanoseconds.
    Tick(i64),
    Resize(u16, u16),
    /// A quiz-mode key (see `ui::quiz`).
    Quiz(QuizAction),
    /// `f`: freeze or resume the display of a live capture.
    ToggleFreeze,
    /// A key of the go-to-frame prompt (`:N`, `g N`).
    Goto(GotoAction),
    /// `n` / `N`: the next / previous anomaly.
    NextAnomaly,
    PrevAnomaly,
    /// `e`: the anomaly list (Expert Info) on or off.
    ToggleAnomalies,
    /// `m`: playback paced by packet time or one packet per second.
    CyclePace,
    /// `a`: playback pauses at each anomaly, or not.
    TogglePauseAtAnomaly,
    /// Scroll the help by this many lines.
    HelpScroll(i16),
    /// `w`: write the selected connection's frames to a pcap file.
    WritePcap,
}

/// What a key of the go-to-frame prompt does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GotoAction {
    /// `:` opens the prompt; `g` then a digit opens it with that digit.
    Start(Option<char>),
    Digit(char),
    Backspace,
    /// Enter: jump to the frame typed.
    Done,
    /// Esc: close the prompt.
    Cancel,
}

/// What a quiz key does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuizAction {
    /// `z`: quiz mode on or off.
    Toggle,
    /// Space / → / `l` in quiz mode: ask about the next packet (or reveal it when it is
    /// not a key packet).
    Next,
    Char(char),
    Backspace,
    /// Enter: check the answer; after the verdict, the next question or the packet.
    Submit,
    /// Esc: skip the remaining questions and reveal the packet.
    Skip,
}

/// Where quiz mode is, as far as keys go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuizKeys {
    Off,
    /// On, no question asked.
    On,
    /// A question is asked: `answering` until its answer is checked.
    Asking {
        answering: bool,
    },
}

/// What the key map needs of the UI's state: the mode keys are read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyContext {
    pub screen: Screen,
    pub filter_editing: bool,
    pub help: bool,
    pub quiz: QuizKeys,
    /// The go-to-frame prompt is open.
    pub goto: bool,
    /// The last key was `g` (a digit now opens the go-to-frame prompt).
    pub after_g: bool,
    /// The anomaly list is open.
    pub anomalies: bool,
}

/// Quiz keys, checked before the ordinary ones. `Some(Some(a))`: a quiz action;
/// `Some(None)`: the key is swallowed (typing an answer); `None`: not a quiz key.
fn quiz_key(quiz: QuizKeys, k: KeyEvent) -> Option<Option<QuizAction>> {
    use QuizAction::*;
    if let QuizKeys::Asking { answering } = quiz {
        return Some(match k.code {
            KeyCode::Enter => Some(Submit),
            KeyCode::Esc => Some(Skip),
            KeyCode::Backspace if answering => Some(Backspace),
            KeyCode::Char(c) if answering => Some(Char(c)),
            KeyCode::Char(' ') => Some(Submit),
            _ => None,
        });
    }
    let on = quiz != QuizKeys::Off;
    match k.code {
        KeyCode::Char('z') => Some(Some(Toggle)),
        KeyCode::Char(' ') | KeyCode::Right | KeyCode::Char('l') if on => Some(Some(Next)),
        // Playing would reveal packets without asking.
        KeyCode::Char('p') if on => Some(None),
        _ => None,
    }
}

/// Key -> Action for the current mode (help open, filter being typed, screen, quiz).
/// The modes are tried in order; each has its own table or small function below, and
/// every key they bind is listed in the help (`ui::keys::HELP`, tested).
pub fn map_key(cx: &KeyContext, k: KeyEvent) -> Option<Action> {
    if k.modifiers.contains(KeyModifiers::CONTROL) {
        return lookup(CTRL_KEYS, k.code);
    }
    if cx.filter_editing {
        return filter_key(k.code);
    }
    if cx.help {
        return Some(lookup(HELP_KEYS, k.code).unwrap_or(Action::ToggleHelp));
    }
    if cx.goto {
        return goto_key(k.code).map(Action::Goto);
    }
    if cx.anomalies && cx.quiz == QuizKeys::Off {
        return lookup(ANOMALY_LIST_KEYS, k.code).or_else(|| lookup(MOVE_KEYS, k.code));
    }
    if let Some(a) = quiz_key(cx.quiz, k) {
        return a.map(Action::Quiz);
    }
    if cx.after_g
        && let KeyCode::Char(c) = k.code
        && c.is_ascii_digit()
    {
        return Some(Action::Goto(GotoAction::Start(Some(c))));
    }
    lookup(COMMON_KEYS, k.code)
        .or_else(|| lookup(MOVE_KEYS, k.code))
        .or_else(|| screen_key(cx.screen, k.code))
}

/// A key table: a key and what it does.
type KeyTable = &'static [(KeyCode, Action)];

/// What `code` does in `table`.
fn lookup(table: KeyTable, code: KeyCode) -> Option<Action> {
    table.iter().find(|(c, _)| *c == code).map(|&(_, a)| a)
}

/// With Ctrl held, whatever the mode.
const CTRL_KEYS: KeyTable = &[
    (KeyCode::Char('c'), Action::Quit),
    (KeyCode::Char('f'), Action::PageDown),
    (KeyCode::Char('b'), Action::PageUp),
];

/// While the help is open; any other key closes it.
const HELP_KEYS: KeyTable = &[
    (KeyCode::Char('q'), Action::Quit),
    (KeyCode::Up, Action::HelpScroll(-1)),
    (KeyCode::Char('k'), Action::HelpScroll(-1)),
    (KeyCode::Down, Action::HelpScroll(1)),
    (KeyCode::Char('j'), Action::HelpScroll(1)),
    (KeyCode::PageUp, Action::HelpScroll(-10)),
    (KeyCode::PageDown, Action::HelpScroll(10)),
    (KeyCode::Char(' '), Action::HelpScroll(10)),
];

/// Moving the selection: in the anomaly list as on both screens.
const MOVE_KEYS: KeyTable = &[
    (KeyCode::Up, Action::Up),
    (KeyCode::Char('k'), Action::Up),
    (KeyCode::Down, Action::Down),
    (KeyCode::Char('j'), Action::Down),
    (KeyCode::PageUp, Action::PageUp),
    (KeyCode::PageDown, Action::PageDown),
];

/// While the anomaly list is open (outside quiz mode), with [`MOVE_KEYS`].
const ANOMALY_LIST_KEYS: KeyTable = &[
    (KeyCode::Esc, Action::ToggleAnomalies),
    (KeyCode::Char('e'), Action::ToggleAnomalies),
    (KeyCode::Char('q'), Action::Quit),
    (KeyCode::Enter, Action::Open),
];

/// On both screens, when no prompt, overlay or quiz question takes the key, with
/// [`MOVE_KEYS`].
const COMMON_KEYS: KeyTable = &[
    (KeyCode::Char('q'), Action::Quit),
    (KeyCode::Esc, Action::Back),
    (KeyCode::Char('?'), Action::ToggleHelp),
    (KeyCode::Char('P'), Action::TogglePresent),
    (KeyCode::Char('g'), Action::Top),
    (KeyCode::Char('G'), Action::Bottom),
    (KeyCode::Char(' '), Action::StepNext),
    (KeyCode::Right, Action::StepNext),
    (KeyCode::Char('l'), Action::StepNext),
    (KeyCode::Left, Action::StepPrev),
    (KeyCode::Char('h'), Action::StepPrev),
    (KeyCode::Home, Action::PlayheadStart),
    (KeyCode::End, Action::PlayheadEnd),
    (KeyCode::Char('p'), Action::TogglePlay),
    (KeyCode::Char('+'), Action::Faster),
    // `+` without Shift on most layouts.
    (KeyCode::Char('='), Action::Faster),
    (KeyCode::Char('-'), Action::Slower),
    (KeyCode::Enter, Action::Open),
    (KeyCode::Char('f'), Action::ToggleFreeze),
    (KeyCode::Char(':'), Action::Goto(GotoAction::Start(None))),
    (KeyCode::Char('n'), Action::NextAnomaly),
    (KeyCode::Char('N'), Action::PrevAnomaly),
    (KeyCode::Char('e'), Action::ToggleAnomalies),
    (KeyCode::Char('m'), Action::CyclePace),
    (KeyCode::Char('a'), Action::TogglePauseAtAnomaly),
    (KeyCode::Char('w'), Action::WritePcap),
];

/// The connections list's own keys.
const LIST_KEYS: KeyTable = &[
    (KeyCode::Char('/'), Action::FilterStart),
    (KeyCode::Char('s'), Action::SortNext),
    (KeyCode::Char('S'), Action::SortReverse),
];

/// An open connection's own keys (besides `1`-`7`, the tabs).
const CONNECTION_KEYS: KeyTable = &[
    (KeyCode::Tab, Action::NextTab),
    (KeyCode::BackTab, Action::PrevTab),
    (KeyCode::Backspace, Action::Back),
    (KeyCode::Char(']'), Action::FieldNext),
    (KeyCode::Char('['), Action::FieldPrev),
];

/// A key of the screen shown, after the common ones: `1`-`7` pick a connection's tab.
fn screen_key(screen: Screen, code: KeyCode) -> Option<Action> {
    match (screen, code) {
        (Screen::Connections, _) => lookup(LIST_KEYS, code),
        (Screen::Connection, KeyCode::Char(c @ '1'..='7')) => {
            Some(Action::SelectTab(Tab::ALL[(c as u8 - b'1') as usize]))
        }
        (Screen::Connection, _) => lookup(CONNECTION_KEYS, code),
    }
}

/// While the filter is typed: every character goes into it.
fn filter_key(code: KeyCode) -> Option<Action> {
    match code {
        KeyCode::Esc => Some(Action::FilterCancel),
        KeyCode::Enter | KeyCode::Down | KeyCode::Up => Some(Action::FilterDone),
        KeyCode::Backspace => Some(Action::FilterBackspace),
        KeyCode::Char(c) => Some(Action::FilterChar(c)),
        _ => None,
    }
}

/// While the go-to-frame prompt is open: digits, Backspace, Enter, Esc.
fn goto_key(code: KeyCode) -> Option<GotoAction> {
    match code {
        KeyCode::Char(c) if c.is_ascii_digit() => Some(GotoAction::Digit(c)),
        KeyCode::Backspace => Some(GotoAction::Backspace),
        KeyCode::Enter => Some(GotoAction::Done),
        KeyCode::Esc => Some(GotoAction::Cancel),
        _ => None,
    }
}

/// Mouse -> Action: left click selects, the wheel scrolls.
pub fn map_mouse(m: MouseEvent) -> Option<Action> {
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
            col: m.column,
            row: m.row,
        }),
        MouseEventKind::ScrollUp => Some(Action::ScrollUp),
        MouseEventKind::ScrollDown => Some(Action::ScrollDown),
        _ => None,
    }
}

#[cfg(test)]
mod help_agrees {
    //! The key tables and the help screen (`ui::keys::HELP`) are written apart: these
    //! tests hold them together.
    use super::*;
    use crate::ui::keys::HELP;

    /// A key as the help spells it.
    fn label(code: KeyCode) -> String {
        match code {
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Char(c) => c.to_string(),
            other => format!("{other:?}"),
        }
    }

    /// Every key the help names, one by one (`1-7` is 1 to 7, `:N` is `:`), but `mouse`.
    fn help_keys() -> Vec<String> {
        let mut v = Vec::new();
        for tok in HELP.iter().flat_map(|(k, _)| k.split_whitespace()) {
            match tok {
                "1-7" => v.extend(('1'..='7').map(String::from)),
                ":N" => v.push(":".into()),
                "mouse" => {}
                t => v.push(t.into()),
            }
        }
        v
    }

    /// Keys bound but not listed, and why.
    const UNLISTED: &[(&str, &str)] = &[("=", "`+` without Shift; the help says `+`")];

    /// The keys the tables and the per-mode functions bind, as the help spells them.
    fn bound() -> Vec<String> {
        let tables = [
            HELP_KEYS,
            MOVE_KEYS,
            ANOMALY_LIST_KEYS,
            COMMON_KEYS,
            LIST_KEYS,
            CONNECTION_KEYS,
        ];
        let mut v: Vec<String> = tables
            .iter()
            .flat_map(|t| t.iter().map(|(c, _)| label(*c)))
            .collect();
        v.extend(
            CTRL_KEYS
                .iter()
                .map(|(c, _)| format!("Ctrl-{}", label(*c).to_uppercase())),
        );
        // Quiz mode and the tabs (the prompts' digits and characters are `:N` and `/`).
        v.extend(["z", "Enter", "Esc", "Backspace", "Space", "→", "l"].map(String::from));
        v.extend(('1'..='7').map(String::from));
        v
    }

    #[test]
    fn every_key_bound_is_in_the_help() {
        let listed = help_keys();
        let unlisted: Vec<&str> = UNLISTED.iter().map(|(k, _)| *k).collect();
        for k in bound() {
            assert!(
                listed.contains(&k) || unlisted.contains(&k.as_str()),
                "key {k:?} does something but the help does not list it"
            );
        }
    }

    /// The key the help spells `s`, with its modifiers.
    fn parse(s: &str) -> KeyEvent {
        let (s, mods) = match s.strip_prefix("Ctrl-") {
            Some(rest) => (rest.to_lowercase(), KeyModifiers::CONTROL),
            None => (s.to_string(), KeyModifiers::NONE),
        };
        let named = [
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::PageUp,
            KeyCode::PageDown,
            KeyCode::Home,
            KeyCode::End,
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Backspace,
        ];
        let code = named
            .into_iter()
            .chain((' '..='~').map(KeyCode::Char))
            .find(|c| label(*c) == s)
            .unwrap_or_else(|| panic!("the help names {s:?}, which is no key"));
        KeyEvent::new(code, mods)
    }

    #[test]
    fn every_key_in_the_help_does_something() {
        let normal = KeyContext {
            screen: Screen::Connections,
            filter_editing: false,
            help: false,
            quiz: QuizKeys::Off,
            goto: false,
            after_g: false,
            anomalies: false,
        };
        let modes = [
            normal,
            KeyContext {
                screen: Screen::Connection,
                ..normal
            },
            KeyContext {
                quiz: QuizKeys::On,
                ..normal
            },
        ];
        // Not the help itself: there every key does something (closes it).
        for k in help_keys() {
            let ev = parse(&k);
            assert!(
                modes.iter().any(|cx| map_key(cx, ev).is_some()),
                "the help lists {k:?}, which does nothing"
            );
        }
    }

    #[test]
    fn no_table_binds_a_key_twice() {
        let tables = [
            CTRL_KEYS,
            HELP_KEYS,
            MOVE_KEYS,
            ANOMALY_LIST_KEYS,
            COMMON_KEYS,
            LIST_KEYS,
            CONNECTION_KEYS,
        ];
        for t in tables {
            for (i, (c, _)) in t.iter().enumerate() {
                assert!(
                    t[..i].iter().all(|(d, _)| d != c),
                    "{c:?} is bound twice in one table (the second never applies)"
                );
            }
        }
    }
}
