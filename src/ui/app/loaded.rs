//! What the runtime loads on demand for the `App` (a frame's bytes, a connection's rebuilt
//! streams): which the current view wants, and the cached answer read back only for the
//! frame or connection it was loaded for. Part of `app`.

use crate::stream::StreamData;
use crate::ui::app::{App, Screen, Tab};
use crate::ui::bytes::{BytesError, FrameBytes};
use crate::ui::http_detail;

impl App {
    /// Header tree of the loaded frame when it is the selected packet's; on a TLS
    /// connection, with the TLS records that begin in its payload.
    pub fn tree(&self) -> Vec<crate::decode::tree::Field> {
        let Some(Ok(fb)) = self.selected_frame_bytes() else {
            return Vec::new();
        };
        let mut v = fb.tree();
        let tls = self.conn().is_some_and(|c| c.tls_info().is_some());
        let payload = v
            .iter()
            .rev()
            .find(|f| f.depth == 0 && f.text.starts_with("Payload: "))
            .and_then(|f| f.range);
        if let (true, Some((at, _))) = (tls, payload) {
            v.extend(crate::tls::tree::records(&fb.data, at));
        }
        v
    }

    /// The selected packet's bytes, or why they could not be read; None while they are
    /// being read (what is cached for another frame is not this packet's).
    pub fn selected_frame_bytes(&self) -> Option<Result<&FrameBytes, &BytesError>> {
        let fr = self.visible_packets().get(self.conn_view.pkt_sel)?.frame;
        match self.frame_bytes.as_ref()? {
            Ok(fb) if fb.frame == fr => Some(Ok(fb)),
            Err(e) if e.is_for(fr) => Some(Err(e)),
            _ => None,
        }
    }

    /// The open connection's rebuilt streams, or why they could not be rebuilt; None while
    /// they are being rebuilt (what is cached for another connection is not this one's).
    pub fn open_stream(&self) -> Option<Result<&StreamData, &BytesError>> {
        let id = self.conn()?.id;
        match self.stream.as_ref()? {
            Ok(s) if s.conn_id == id => Some(Ok(s)),
            Err(e) if e.is_for(id) => Some(Err(e)),
            _ => None,
        }
    }

    /// The selected header field: by default the TCP header.
    pub fn current_field(&self) -> usize {
        self.conn_view.field_sel.unwrap_or_else(|| {
            self.tree()
                .iter()
                .position(|f| f.depth == 0 && f.text.starts_with("Transmission Control"))
                .unwrap_or(0)
        })
    }

    /// The frame whose bytes the Packets tab wants (the runtime loads it).
    pub fn wanted_frame(&self) -> Option<u64> {
        if self.screen != Screen::Connection || self.conn_view.tab != Tab::Packets {
            return None;
        }
        self.visible_packets()
            .get(self.conn_view.pkt_sel)
            .map(|p| p.frame)
    }

    /// The chunks of exchange `i`'s response (its place among the connection's final
    /// responses in the rebuilt stream), when the streams are rebuilt.
    pub fn chunks_of(&self, i: usize) -> Option<&[crate::explain::wire::Chunk]> {
        let c = self.conn()?;
        let nth = c
            .http
            .iter()
            .take(i)
            .filter(|x| x.response.is_some())
            .count();
        c.http.get(i)?.response.as_ref()?;
        match self.open_stream()? {
            Ok(s) => s.wire.chunks.get(nth).map(Vec::as_slice),
            Err(_) => None,
        }
    }

    /// The body of exchange `i` of the open connection: from the on-demand rebuild (the
    /// analysis keeps no bodies), else from the analysis itself (live mode).
    pub fn body(&self, i: usize, response: bool) -> Option<&[u8]> {
        if let Some(Ok(s)) = self.open_stream()
            && let Some(b) = s
                .http
                .get(i)
                .and_then(|x| http_detail::body_of(x, response))
        {
            return Some(b);
        }
        let x = self.conn()?.http.get(i)?;
        http_detail::body_of(x, response)
    }

    /// The connection whose stream the Stream, HTTP and Ladder tabs (the ladder for its
    /// HTTP labels) want rebuilt.
    pub fn wanted_stream(&self) -> Option<u64> {
        if self.screen != Screen::Connection
            || !matches!(self.conn_view.tab, Tab::Stream | Tab::Http | Tab::Ladder)
        {
            return None;
        }
        self.conn().map(|c| c.id)
    }
}
