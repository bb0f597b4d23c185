//! Build script: make libpcap linkable on a machine without its development package, stop
//! at once with the package to install where there is no libpcap at all, and tell the
//! tests what this machine has (so a test that cannot run here is listed as ignored, with
//! the reason, in `cargo test`'s own output).

#[path = "build/libpcap.rs"]
mod libpcap;
#[path = "build/testenv.rs"]
mod testenv;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=build");
    if let Err(msg) = libpcap::link() {
        println!("cargo::error={msg}");
        return;
    }
    if let Err(msg) = testenv::emit() {
        println!("cargo::error={msg}");
    }
}
