//! What HTTP each data segment of a connection carries, as a short label for the ladder
//! (`GET /x`, `200 OK (head)`, `body 1448 B`, `chunk 0x12 (18 B)`, `last-chunk`).
//! Pure: computed from the rebuilt byte streams' pieces (frame and bytes, in stream
//! order), no terminal, no file.

use crate::pipeline::Connection;
use std::collections::HashMap;

/// Labels by frame for `c` when its streams have not been rebuilt: none.
pub fn wire_labels(_c: &Connection) -> HashMap<u64, String> {
    HashMap::new()
}
