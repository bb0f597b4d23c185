//! Terminal-safe text for the TUI: the shared escaping of `crate::escape` (one function
//! for every front end, so the reports and the TUI escape alike).

pub use crate::escape::*;
