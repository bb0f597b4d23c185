//! What each complete frame does: header blocks (HEADERS / PUSH_PROMISE + CONTINUATION,
//! capped) decoded and handed to the streams; SETTINGS applied (HPACK table bound,
//! initial window, max frame size); PING round trips; GOAWAY; RST_STREAM; WINDOW_UPDATE.
//!
//! Owns: the connection-level meaning of frames. Must not touch framing (see `reader`)
//! or how exchanges are built (see `streams`).

use super::frame::{self, FrameHeader, FrameType, be32};
use super::summary::{FrameDetail, FrameRecord, Goaway, PingRtt, RstRecord};
use super::{Dir, Http2Session, MAX_FRAME_RECORDS, peer};
use crate::http::H2Note;
use crate::ts::Ts;

/// A header block being gathered from HEADERS or PUSH_PROMISE and its CONTINUATIONs.
pub(super) struct Block {
    stream: u32,
    promised: Option<u32>,
    end_stream: bool,
    buf: Vec<u8>,
    frames: u64,
    /// Grew past the cap: no longer kept, only counted to its END_HEADERS.
    over: bool,
    at: (u64, Ts),
    /// Index of the opening frame in the frame list (its label gets the request line).
    record: Option<usize>,
}

impl Http2Session {
    /// Count a frame and keep it in the frame list.
    pub(super) fn count_frame(&mut self, dir: Dir, h: &FrameHeader, at: (u64, Ts)) {
        *self.sum.frames.get_mut(dir).entry(h.ty.name()).or_insert(0) += 1;
        if self.sum.frame_list.len() < MAX_FRAME_RECORDS {
            self.sum.frame_list.push(FrameRecord {
                dir,
                ty: h.ty,
                type_byte: match h.ty {
                    FrameType::Unknown(t) => Some(t),
                    _ => None,
                },
                flags: h.ty.flag_names(h.flags),
                stream: h.stream,
                len: h.len,
                frame: at.0,
                ts: at.1,
                what: None,
                detail: None,
            });
        } else {
            self.sum.frame_list_truncated = true;
        }
    }

    /// The frame in progress in `dir` is complete (or its end was reached in a gap).
    pub(super) fn end_frame(&mut self, dir: Dir) {
        let Some(cur) = self.rd[dir.idx()].cur.take() else {
            return;
        };
        let h = cur.h;
        let record = cur.record;
        if self.block[dir.idx()].is_some() && h.ty != FrameType::Continuation {
            self.protocol(dir, "a frame inside a header block");
            self.abandon_block(dir);
        }
        if cur.unread() {
            if h.ty == FrameType::Data && h.has(frame::END_STREAM) {
                self.streams.end_side(dir, h.stream, cur.at, &self.cfg);
            }
            return;
        }
        let p = cur.buf.as_slice();
        match h.ty {
            FrameType::Data => {
                if h.has(frame::END_STREAM) {
                    self.streams.end_side(dir, h.stream, cur.at, &self.cfg);
                }
            }
            FrameType::Headers | FrameType::PushPromise => {
                self.open_block(dir, &h, p, cur.at, record)
            }
            FrameType::Continuation => self.continue_block(dir, &h, p),
            FrameType::Settings => self.settings(dir, &h, p, record),
            FrameType::Ping => self.ping(dir, &h, p, cur.at),
            FrameType::Goaway => self.goaway(dir, p, cur.at),
            FrameType::RstStream => {
                let code = be32(p, 0).unwrap_or(0);
                if self.sum.rst_streams.len() < MAX_FRAME_RECORDS {
                    self.sum.rst_streams.push(RstRecord {
                        stream_id: h.stream,
                        from: dir,
                        error: frame::error_name(code),
                        frame: cur.at.0,
                    });
                }
                self.streams
                    .reset(dir, h.stream, frame::error_name(code), cur.at, &self.cfg);
            }
            FrameType::WindowUpdate => self.window_update(dir, &h, p, cur.at, record),
            FrameType::Priority | FrameType::Unknown(_) => {}
        }
    }

    pub(super) fn protocol(&mut self, dir: Dir, what: &'static str) {
        self.note(H2Note::Protocol { dir, what });
    }

    fn open_block(
        &mut self,
        dir: Dir,
        h: &FrameHeader,
        p: &[u8],
        at: (u64, Ts),
        record: Option<usize>,
    ) {
        if h.stream == 0 {
            self.protocol(dir, "a header block on stream 0");
        }
        let Some((frag, promised)) = frame::header_fragment(h, p) else {
            self.protocol(dir, "padding longer than the frame");
            self.hpack[dir.idx()].poison();
            return;
        };
        self.block[dir.idx()] = Some(Block {
            stream: h.stream,
            promised,
            end_stream: h.has(frame::END_STREAM),
            buf: frag.to_vec(),
            frames: 1,
            over: false,
            at,
            record,
        });
        self.check_block(dir);
        if h.has(frame::END_HEADERS) {
            self.close_block(dir);
        }
    }

    fn continue_block(&mut self, dir: Dir, h: &FrameHeader, p: &[u8]) {
        let Some(b) = self.block[dir.idx()]
            .as_mut()
            .filter(|b| b.stream == h.stream)
        else {
            self.protocol(dir, "CONTINUATION without a header block open");
            self.hpack[dir.idx()].poison();
            return;
        };
        b.frames += 1;
        if !b.over {
            b.buf.extend_from_slice(p);
        }
        self.check_block(dir);
        if h.has(frame::END_HEADERS) {
            self.close_block(dir);
        }
    }

    /// The cap on a header block (a CONTINUATION flood): past it the block is dropped
    /// and the table poisoned (its contents are unknown).
    fn check_block(&mut self, dir: Dir) {
        let cap = self.cfg.header_cap;
        let Some(b) = self.block[dir.idx()].as_mut() else {
            return;
        };
        if !b.over && b.buf.len() > cap {
            b.over = true;
            b.buf = Vec::new();
            let frames = b.frames;
            self.hpack[dir.idx()].poison();
            self.note(H2Note::HeaderBlockTooLarge { dir, cap, frames });
        }
    }

    /// A block left unfinished (another frame came, or framing was lost).
    fn abandon_block(&mut self, dir: Dir) {
        if let Some(b) = self.block[dir.idx()].take() {
            self.hpack[dir.idx()].poison();
            self.streams
                .headers_lost(dir, b.stream, b.end_stream, b.at, self.initial_window);
        }
    }

    fn close_block(&mut self, dir: Dir) {
        let Some(b) = self.block[dir.idx()].take() else {
            return;
        };
        let decoded = if b.over {
            Err(H2Note::HeaderBlockTooLarge {
                dir,
                cap: self.cfg.header_cap,
                frames: b.frames,
            })
        } else {
            // The list cap: four header sections' worth (a bomb decodes to megabytes).
            self.hpack[dir.idx()].decode(&b.buf, self.cfg.max_headers, self.cfg.header_cap)
        };
        // (an over-long block was noted when it passed the cap)
        if let (Err(n), false) = (&decoded, b.over) {
            self.note(n.clone());
        }
        let detail = self.header_detail(&b.buf, &decoded, b.promised);
        self.set_detail(b.record, FrameDetail::Headers(detail));
        let target = b.promised.unwrap_or(b.stream);
        let what = self.streams.headers(
            super::streams::HeaderBlock {
                dir,
                stream: target,
                promised_on: b.promised.map(|_| b.stream),
                end_stream: b.end_stream,
                at: b.at,
                decoded,
            },
            self.initial_window,
            &self.cfg,
        );
        if let (Some(i), Some(w)) = (b.record, what)
            && let Some(r) = self.sum.frame_list.get_mut(i)
        {
            r.what = Some(w);
        }
    }

    fn settings(&mut self, dir: Dir, h: &FrameHeader, p: &[u8], record: Option<usize>) {
        if h.has(frame::ACK) {
            return;
        }
        let sent: Vec<(String, u32)> = p
            .chunks_exact(6)
            .take(64)
            .map(|e| {
                let id = u16::from_be_bytes([e[0], e[1]]);
                (
                    frame::setting_name(id),
                    u32::from_be_bytes([e[2], e[3], e[4], e[5]]),
                )
            })
            .collect();
        self.set_detail(record, FrameDetail::Settings(sent));
        if !p.len().is_multiple_of(6) {
            self.protocol(dir, "SETTINGS length not a multiple of 6");
        }
        for e in p.chunks_exact(6) {
            let id = u16::from_be_bytes([e[0], e[1]]);
            let v = u32::from_be_bytes([e[2], e[3], e[4], e[5]]);
            self.sum
                .settings
                .get_mut(dir)
                .insert(frame::setting_name(id), v);
            let other = peer(dir).idx();
            match id {
                // The sender's decoder bounds the table the other side encodes with.
                frame::SETTINGS_HEADER_TABLE_SIZE => {
                    if let Some(n) = self.hpack[other].peer_table_size(v) {
                        self.note(n);
                    }
                }
                frame::SETTINGS_INITIAL_WINDOW_SIZE => {
                    let delta = i64::from(v) - self.initial_window[other];
                    self.initial_window[other] = i64::from(v);
                    self.streams.shift_windows(peer(dir), delta);
                }
                // Outside 2^14..2^24-1 is a PROTOCOL_ERROR (RFC 9113 §6.5.2): not believed.
                frame::SETTINGS_MAX_FRAME_SIZE if !(16_384..=16_777_215).contains(&v) => self
                    .protocol(
                        dir,
                        "SETTINGS_MAX_FRAME_SIZE outside 16384..16777215: ignored",
                    ),
                frame::SETTINGS_MAX_FRAME_SIZE => self.max_frame[other] = v,
                _ => {}
            }
        }
    }

    fn ping(&mut self, dir: Dir, h: &FrameHeader, p: &[u8], at: (u64, Ts)) {
        let Some(data) = p.get(..8).and_then(|s| <[u8; 8]>::try_from(s).ok()) else {
            self.protocol(dir, "PING not 8 bytes long");
            return;
        };
        if !h.has(frame::ACK) {
            if self.pings.len() < 64 {
                self.pings.push((dir, data, at.0, at.1));
            }
            return;
        }
        let Some(i) = self
            .pings
            .iter()
            .position(|q| q.0 == peer(dir) && q.1 == data)
        else {
            return;
        };
        let (from, _, frame, ts) = self.pings.remove(i);
        let rtt = at.1.ms_since(ts);
        if self.sum.pings.len() < 1000 {
            self.sum.pings.push(PingRtt {
                from,
                frame,
                ack_frame: at.0,
                rtt_ms: (rtt >= 0.0 && rtt.is_finite()).then_some(rtt),
            });
        }
    }

    fn goaway(&mut self, dir: Dir, p: &[u8], at: (u64, Ts)) {
        let (Some(last), Some(code)) = (be32(p, 0), be32(p, 4)) else {
            self.protocol(dir, "GOAWAY shorter than 8 bytes");
            return;
        };
        let debug = p.get(8..).unwrap_or_default();
        let debug = String::from_utf8_lossy(debug.get(..256).unwrap_or(debug)).into_owned();
        self.sum.goaway = Some(Goaway {
            from: dir,
            last_stream_id: last & 0x7fff_ffff,
            error: frame::error_name(code),
            debug,
            frame: at.0,
        });
    }

    fn window_update(
        &mut self,
        dir: Dir,
        h: &FrameHeader,
        p: &[u8],
        at: (u64, Ts),
        record: Option<usize>,
    ) {
        let Some(inc) = be32(p, 0).map(|v| i64::from(v & 0x7fff_ffff)) else {
            self.protocol(dir, "WINDOW_UPDATE not 4 bytes long");
            return;
        };
        if let Some(r) = record.and_then(|i| self.sum.frame_list.get_mut(i)) {
            r.what = Some(format!("+{inc}"));
        }
        // The update raises what the other side may send.
        let sender = peer(dir);
        let w = if h.stream == 0 {
            let w = &mut self.conn_window[sender.idx()];
            *w += inc;
            Some(*w)
        } else {
            self.streams.window_mut(sender, h.stream).map(|w| {
                *w += inc;
                *w
            })
        };
        if let Some(w) = w {
            self.sum.sample(at, sender, h.stream, w);
        }
        self.set_detail(
            record,
            FrameDetail::WindowUpdate {
                increment: inc,
                window: w,
            },
        );
    }

    /// What explain tells about a header block: its fields and how each was sent.
    fn header_detail(
        &mut self,
        block: &[u8],
        decoded: &Result<super::hpack::Decoded, H2Note>,
        promised: Option<u32>,
    ) -> super::summary::HeaderDetail {
        let mut d = super::summary::HeaderDetail {
            block_len: block.len(),
            promised,
            ..Default::default()
        };
        let fields = match decoded {
            Ok(x) => &x.fields,
            Err(e) => {
                d.error = Some(e.to_string());
                return d;
            }
        };
        d.fields = fields.len();
        let reps = super::hpack::representations(block).unwrap_or_default();
        let budget = super::summary::MAX_SHOWN_FIELDS.saturating_sub(self.sum.shown_fields);
        let mut fields = fields.iter();
        for rep in reps {
            if rep.kind == super::hpack::RepKind::SizeUpdate {
                d.size_updates.push(rep.index);
                continue;
            }
            let Some((n, v)) = fields.next().filter(|_| d.shown.len() < budget) else {
                break;
            };
            let cut = v.chars().count() > super::summary::SHOWN_VALUE_CHARS;
            d.shown.push(super::summary::ShownField {
                name: n.chars().take(super::summary::SHOWN_VALUE_CHARS).collect(),
                value: v.chars().take(super::summary::SHOWN_VALUE_CHARS).collect(),
                value_cut: cut,
                rep,
            });
        }
        self.sum.shown_fields += d.shown.len();
        d
    }

    /// Attach what explain tells to a kept frame record.
    pub(super) fn set_detail(&mut self, record: Option<usize>, d: FrameDetail) {
        if let Some(r) = record.and_then(|i| self.sum.frame_list.get_mut(i)) {
            r.detail = Some(Box::new(d));
        }
    }
}
