//! Where a connection's bytes go once HTTP/2 may be in them: the preface probe holds the
//! first bytes until the client's 24 tell; then either an `Http2Session` gets everything
//! (prior knowledge), or the HTTP/1 assembler does, and hands over to a session if it
//! sees an Upgrade: h2c answered by 101.
//!
//! Owns: `H2State`, the routing. Must not parse either protocol.

use crate::flow::Dir;
use crate::http::{HttpAssembler, HttpConfig};
use crate::http2::detect::{Held, Verdict};
use crate::http2::{Http2Session, Input, Origin, Probe};
use crate::tcp::reassembly::StreamEvent;
use crate::ts::Ts;

/// A connection's HTTP/2 routing state.
#[derive(Default)]
pub enum H2State {
    /// The client's first bytes may still be the preface.
    #[default]
    Probing,
    Held(Box<Probe>),
    /// Not prior knowledge: the HTTP/1 assembler has the bytes.
    Off,
    Live(Box<Http2Session>),
    /// The connection is over: what it did in HTTP/2.
    Done(Box<crate::http2::Http2Summary>),
}

pub(super) fn no_summary(s: &Option<Box<H2State>>) -> bool {
    !matches!(s.as_deref(), Some(H2State::Done(_)))
}

pub(super) fn summary<S: serde::Serializer>(
    s: &Option<Box<H2State>>,
    ser: S,
) -> Result<S::Ok, S::Error> {
    match s.as_deref() {
        Some(H2State::Done(sum)) => serde::Serialize::serialize(sum, ser),
        _ => ser.serialize_none(),
    }
}

impl std::fmt::Debug for H2State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            H2State::Probing => "Probing",
            H2State::Held(_) => "Held",
            H2State::Off => "Off",
            H2State::Live(_) => "Live",
            H2State::Done(_) => "Done",
        })
    }
}

/// Hand `ev` to HTTP/2 or HTTP/1 as the state says.
pub(super) fn route(
    h2: &mut H2State,
    http: &mut Option<Box<HttpAssembler>>,
    cfg: &HttpConfig,
    dir: Dir,
    ev: StreamEvent<'_>,
    ts: Ts,
) {
    let (input, offset, frame) = match ev {
        StreamEvent::Data { bytes, frame, .. } => (Input::Bytes(bytes), 0, frame),
        StreamEvent::Gap { offset, len } => (Input::Gap(len), offset, 0),
    };
    match h2 {
        H2State::Live(s) => {
            s.push(dir, input, frame, ts);
            // After an Upgrade the HTTP/1 assembler counts the tunnel's bytes.
            if let Some(h) = http.as_mut() {
                push_http(h, dir, input, offset, frame, ts);
            }
        }
        H2State::Probing | H2State::Held(_) => {
            let probe = match h2 {
                H2State::Held(p) => p,
                _ => {
                    *h2 = H2State::Held(Box::default());
                    let H2State::Held(p) = h2 else { return };
                    p
                }
            };
            match probe.offer(dir, input, offset, frame, ts) {
                Verdict::Undecided => {}
                Verdict::Http2 => {
                    let held = probe.take_held();
                    let mut s = Box::new(Http2Session::new(cfg.clone(), Origin::PriorKnowledge));
                    for e in &held {
                        match e {
                            Held::Bytes {
                                dir,
                                bytes,
                                frame,
                                ts,
                            } => s.push(*dir, Input::Bytes(bytes), *frame, *ts),
                            Held::Gap { dir, len, .. } => s.push(*dir, Input::Gap(*len), 0, ts),
                        }
                    }
                    *h2 = H2State::Live(s);
                }
                Verdict::NotHttp2 => {
                    let held = probe.take_held();
                    *h2 = H2State::Off;
                    replay(h2, http, cfg, held);
                }
            }
        }
        H2State::Off | H2State::Done(_) => {
            let h = http.get_or_insert_with(|| Box::new(HttpAssembler::new(cfg.clone())));
            push_http(h, dir, input, offset, frame, ts);
            if let Some((req, bytes)) = h.take_h2c() {
                let mut s = Box::new(Http2Session::new(
                    cfg.clone(),
                    Origin::Upgrade(Box::new(req)),
                ));
                for (d, b) in &bytes {
                    s.push(*d, Input::Bytes(b), frame, ts);
                }
                *h2 = H2State::Live(s);
            }
        }
    }
}

/// What the probe held, to the HTTP/1 side (the probe gave up, or the connection ended
/// before it could tell).
pub(super) fn replay(
    h2: &mut H2State,
    http: &mut Option<Box<HttpAssembler>>,
    cfg: &HttpConfig,
    held: Vec<Held>,
) {
    for e in held {
        match e {
            Held::Bytes {
                dir,
                bytes,
                frame,
                ts,
            } => route(
                h2,
                http,
                cfg,
                dir,
                StreamEvent::Data {
                    bytes: &bytes,
                    frame,
                    offset: 0,
                },
                ts,
            ),
            Held::Gap { dir, offset, len } => route(
                h2,
                http,
                cfg,
                dir,
                StreamEvent::Gap { offset, len },
                Ts::default(),
            ),
        }
    }
}

fn push_http(h: &mut HttpAssembler, dir: Dir, input: Input<'_>, offset: u64, frame: u64, ts: Ts) {
    match input {
        Input::Bytes(b) => h.push(dir, b, frame, ts),
        Input::Gap(len) => h.gap_at(dir, offset, len),
    }
}

impl crate::pipeline::Connection {
    /// The connection's HTTP/2 facts once it is over (or as of a snapshot), if it spoke
    /// HTTP/2 (cleartext or inside decrypted TLS).
    pub fn http2(&self) -> Option<&crate::http2::Http2Summary> {
        match self.h2_live.as_deref() {
            Some(H2State::Done(s)) => Some(s),
            Some(H2State::Live(s)) => Some(s.summary()),
            _ => None,
        }
    }
}
