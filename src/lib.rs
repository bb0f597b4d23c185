//! tcpscope: TCP and HTTP at the packet level.
//!
//! The pipeline runs in one direction (see docs/architecture.md):
//! `capture` (the only module that touches libpcap) -> `decode` (pure) -> `flow`
//! (pure) -> `tcp` (sans-IO engine) -> `http` (sans-IO) -> `model` -> `report`.
//! Core modules never read the clock: time is always the packet's timestamp.

pub mod analyze;
pub mod capture;
pub mod classroom;
pub mod cli;
pub mod decode;
pub mod demo;
pub mod escape;
pub mod explain;
pub mod export;
pub mod flow;
pub mod ftp;
pub mod headless;
pub mod http;
pub mod live;
pub mod parallel;
pub mod report;
pub mod stream;
pub mod tcp;
pub mod ts;
pub mod ui;
