//! Key -> Action: every input the UI understands, as data, and the maps from keys and
//! mouse events to it for the current mode. `App::update` applies an action; nothing here
//! changes state.

use crate::ui::app::{App, Screen, Tab};
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
    Quiz(crate::ui::quiz::QuizAction),
    /// `f`: freeze or resume the display of a live capture.
    ToggleFreeze,
}

/// Key -> Action for the current mode (help open, filter being typed, screen).
pub fn map_key(app: &App, k: KeyEvent) -> Option<Action> {
    use Action::*;
    if k.modifiers.contains(KeyModifiers::CONTROL) {
        return match k.code {
            KeyCode::Char('c') => Some(Quit),
            KeyCode::Char('f') => Some(PageDown),
            KeyCode::Char('b') => Some(PageUp),
            _ => None,
        };
    }
    if app.filter_editing {
        return match k.code {
            KeyCode::Esc => Some(FilterCancel),
            KeyCode::Enter | KeyCode::Down | KeyCode::Up => Some(FilterDone),
            KeyCode::Backspace => Some(FilterBackspace),
            KeyCode::Char(c) => Some(FilterChar(c)),
            _ => None,
        };
    }
    if app.help {
        return match k.code {
            KeyCode::Char('q') => Some(Quit),
            _ => Some(ToggleHelp),
        };
    }
    if let Some(a) = crate::ui::quiz::map_key(app, k) {
        return a;
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
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    match app.screen {
        Screen::Connections => match k.code {
            KeyCode::Char('/') => Some(FilterStart),
            KeyCode::Char('s') => Some(SortNext),
            KeyCode::Char('S') => Some(SortReverse),
            _ => None,
        },
        Screen::Connection => match k.code {
            KeyCode::Char(c @ '1'..='5') => Some(SelectTab(Tab::ALL[(c as u8 - b'1') as usize])),
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
