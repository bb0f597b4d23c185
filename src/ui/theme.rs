//! Colours that read on dark and light terminals (the terminal's own palette: no RGB),
//! and a monochrome fallback for `NO_COLOR` that keeps emphasis through modifiers.

use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }
    pub fn client(self) -> Style {
        self.fg(Color::Cyan)
    }
    pub fn server(self) -> Style {
        self.fg(Color::Magenta)
    }
    /// The colour of the side a packet or byte came from.
    pub fn side(self, d: crate::flow::Dir) -> Style {
        match d {
            crate::flow::Dir::Client => self.client(),
            crate::flow::Dir::Server => self.server(),
        }
    }
    /// Plain text (no side).
    pub fn side_neutral(self) -> Style {
        Style::default()
    }
    pub fn anomaly(self) -> Style {
        if self.color {
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }
    pub fn state(self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }
    pub fn dim(self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default().add_modifier(Modifier::DIM)
        }
    }
    pub fn header(self) -> Style {
        Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
    pub fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    pub fn title(self) -> Style {
        if self.color {
            Style::default().fg(Color::Black).bg(Color::Cyan)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
    pub fn highlight(self) -> Style {
        if self.color {
            Style::default().fg(Color::Black).bg(Color::Yellow)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    /// An HTTP/2 stream's colour (client streams 1, 3, 5… take the palette in turn; 0
    /// and the monochrome theme: none).
    pub fn stream(self, id: u32) -> Style {
        const PALETTE: [Color; 6] = [
            Color::Yellow,
            Color::Green,
            Color::Blue,
            Color::LightRed,
            Color::LightCyan,
            Color::LightMagenta,
        ];
        if id == 0 {
            return Style::default();
        }
        self.fg(PALETTE[(id as usize / 2) % PALETTE.len()])
    }
}
