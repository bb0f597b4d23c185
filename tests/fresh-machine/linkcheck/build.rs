// tcpscope's libpcap lookup, as tcpscope's build.rs runs it. LINKCHECK_SKIP=1 leaves it
// out: the control that shows the build fails without it.
#[path = "../../../build/libpcap.rs"]
mod libpcap;

fn main() {
    println!("cargo::rerun-if-env-changed=LINKCHECK_SKIP");
    if std::env::var("LINKCHECK_SKIP").is_ok_and(|v| v == "1") {
        return;
    }
    if let Err(msg) = libpcap::link() {
        println!("cargo::error={msg}");
    }
}
