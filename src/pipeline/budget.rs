//! The memory a tracked connection costs (docs/memory.md): the fixed part is checked
//! here, so that a field added to the engine that grows it past the budget fails a test.

#[cfg(test)]
mod tests {
    use crate::pipeline::Connection;
    use crate::tcp::{TcpConn, TcpSummary};
    use std::mem::size_of;

    #[test]
    fn a_tracked_connection_fits_its_budget() {
        let (conn, tcp, sum) = (
            size_of::<Connection>(),
            size_of::<TcpConn>(),
            size_of::<TcpSummary>(),
        );
        eprintln!(
            "Connection {conn} B, TcpConn {tcp} B, TcpSummary {sum} B, Handshake {} B, Counts {} B",
            size_of::<crate::tcp::handshake::Handshake>(),
            size_of::<crate::tcp::analysis::Counts>()
        );
        assert!(conn + tcp <= 2048, "{conn} + {tcp} bytes");
        // 1,472 before the reassembler's buffers were boxed (docs/memory.md).
        assert!(tcp <= 1_376, "TcpConn {tcp} bytes");
    }
}
