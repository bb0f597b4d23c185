//! Session tests over hand-built frame streams.
