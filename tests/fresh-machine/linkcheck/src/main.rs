//! Opens the capture named on the command line with libpcap and prints its packet count
//! and the libpcap file the process loaded: the linked library really works.

fn main() {
    let path = std::env::args().nth(1).expect("a capture file");
    let mut cap = pcap::Capture::from_file(&path).expect("libpcap opens the capture");
    let mut n = 0u64;
    while cap.next_packet().is_ok() {
        n += 1;
    }
    println!("packets {n}");
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    if let Some(lib) = maps.lines().find_map(|l| l.split_whitespace().nth(5).filter(|p| p.contains("libpcap"))) {
        println!("loaded {lib}");
    }
}
