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
pub fn map_key(cx: &KeyContext, k: KeyEvent) -> Option<Action> {
    use Action::*;
    if k.modifiers.contains(KeyModifiers::CONTROL) {
        return match k.code {
            KeyCode::Char('c') => Some(Quit),
            KeyCode::Char('f') => Some(PageDown),
            KeyCode::Char('b') => Some(PageUp),
            _ => None,
        };
    }
    if cx.filter_editing {
        return match k.code {
            KeyCode::Esc => Some(FilterCancel),
            KeyCode::Enter | KeyCode::Down | KeyCode::Up => Some(FilterDone),
            KeyCode::Backspace => Some(FilterBackspace),
            KeyCode::Char(c) => Some(FilterChar(c)),
            _ => None,
        };
    }
    if cx.help {
        return match k.code {
            KeyCode::Char('q') => Some(Quit),
            KeyCode::Up | KeyCode::Char('k') => Some(HelpScroll(-1)),
            KeyCode::Down | KeyCode::Char('j') => Some(HelpScroll(1)),
            KeyCode::PageUp => Some(HelpScroll(-10)),
            KeyCode::PageDown | KeyCode::Char(' ') => Some(HelpScroll(10)),
            _ => Some(ToggleHelp),
        };
    }
    if cx.goto {
        return match k.code {
            KeyCode::Char(c) if c.is_ascii_digit() => Some(Goto(GotoAction::Digit(c))),
            KeyCode::Backspace => Some(Goto(GotoAction::Backspace)),
            KeyCode::Enter => Some(Goto(GotoAction::Done)),
            KeyCode::Esc => Some(Goto(GotoAction::Cancel)),
            _ => None,
        };
    }
    if cx.anomalies && cx.quiz == QuizKeys::Off {
        return match k.code {
            KeyCode::Esc | KeyCode::Char('e') => Some(ToggleAnomalies),
            KeyCode::Char('q') => Some(Quit),
            KeyCode::Up | KeyCode::Char('k') => Some(Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Down),
            KeyCode::PageUp => Some(PageUp),
            KeyCode::PageDown => Some(PageDown),
            KeyCode::Enter => Some(Open),
            _ => None,
        };
    }
    if let Some(a) = quiz_key(cx.quiz, k) {
        return a.map(Quiz);
    }
    if cx.after_g
        && let KeyCode::Char(c) = k.code
        && c.is_ascii_digit()
    {
        return Some(Goto(GotoAction::Start(Some(c))));
    }
    let common = match k.code {
        KeyCode::Char('q') => Some(Quit),
        KeyCode::Esc => Some(Back),
        KeyCode::Char('?') => Some(ToggleHelp),
        KeyCode::Char('P') => Some(TogglePresent),
        KeyCode::Up | KeyCode::Char('k') => Some(Up),
        KeyCode::Down | KeyCode::Char('j') => Some(Down),
        KeyCode::PageUp => Some(PageUp),
        KeyCode::PageDown => Some(PageDown),
        KeyCode::Char('g') => Some(Top),
        KeyCode::Char('G') => Some(Bottom),
        KeyCode::Char(' ') | KeyCode::Right | KeyCode::Char('l') => Some(StepNext),
        KeyCode::Left | KeyCode::Char('h') => Some(StepPrev),
        KeyCode::Home => Some(PlayheadStart),
        KeyCode::End => Some(PlayheadEnd),
        KeyCode::Char('p') => Some(TogglePlay),
        KeyCode::Char('+') | KeyCode::Char('=') => Some(Faster),
        KeyCode::Char('-') => Some(Slower),
        KeyCode::Enter => Some(Open),
        KeyCode::Char('f') => Some(ToggleFreeze),
        KeyCode::Char(':') => Some(Goto(GotoAction::Start(None))),
        KeyCode::Char('n') => Some(NextAnomaly),
        KeyCode::Char('N') => Some(PrevAnomaly),
        KeyCode::Char('e') => Some(ToggleAnomalies),
        KeyCode::Char('m') => Some(CyclePace),
        KeyCode::Char('a') => Some(TogglePauseAtAnomaly),
        KeyCode::Char('w') => Some(WritePcap),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    match cx.screen {
        Screen::Connections => match k.code {
            KeyCode::Char('/') => Some(FilterStart),
            KeyCode::Char('s') => Some(SortNext),
            KeyCode::Char('S') => Some(SortReverse),
            _ => None,
        },
        Screen::Connection => match k.code {
            KeyCode::Char(c @ '1'..='7') => Some(SelectTab(Tab::ALL[(c as u8 - b'1') as usize])),
            KeyCode::Tab => Some(NextTab),
            KeyCode::BackTab => Some(PrevTab),
            KeyCode::Backspace => Some(Back),
            KeyCode::Char(']') => Some(FieldNext),
            KeyCode::Char('[') => Some(FieldPrev),
            _ => None,
        },
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
