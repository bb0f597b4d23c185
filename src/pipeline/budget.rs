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
        let (hs, meter) = (
            size_of::<crate::tcp::handshake::Handshake>(),
            size_of::<crate::tcp::measure::Meter>(),
        );
        eprintln!(
            "Connection {conn} B, TcpConn {tcp} B, TcpSummary {sum} B, Handshake {hs} B, \
             Meter {meter} B, Counts {} B",
            size_of::<crate::tcp::analysis::Counts>()
        );
        assert!(conn + tcp <= 2048, "{conn} + {tcp} bytes");
        // 1,472 before the reassembler's buffers were boxed, 1,376 before the meter,
        // counts, handshake and timestamp cuts (docs/memory.md).
        assert!(tcp <= 1_208, "TcpConn {tcp} bytes");
        // 80 before (a VecDeque and two Option<Ts>), 280 before.
        assert!(meter <= 56, "Meter {meter} bytes");
        assert!(hs <= 248, "Handshake {hs} bytes");
    }
}
