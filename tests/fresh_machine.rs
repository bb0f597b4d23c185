//! A fresh machine (issue 17, item 15): tests/fresh-machine/run.sh builds a crate that links
//! libpcap as tcpscope does, with tcpscope's build/libpcap.rs, in a mount namespace where
//! libpcap's development files (then every libpcap file) are hidden by an overlay.
//! Slow (three builds of the `pcap` crate), so ignored by default; .ci/run runs the script
//! itself. `cargo test --test fresh_machine -- --ignored` runs it here.

#[test]
#[ignore = "slow (builds the pcap crate three times in a staged machine): run with --ignored, or tests/fresh-machine/run.sh"]
fn builds_with_only_the_runtime_libpcap_and_stops_at_once_without_any() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fresh-machine/run.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .output()
        .expect("bash runs the script");
    let text = String::from_utf8_lossy(&out.stdout);
    if out.status.code() == Some(77) {
        // Not root, or no mount namespaces: said in the output, not a pass in disguise.
        panic!("cannot stage a fresh machine here: {}", text.trim());
    }
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for case in ["ok control", "ok runtime", "ok none", "ok at-once"] {
        assert!(
            text.lines().any(|l| l.starts_with(case)),
            "no `{case}` in:\n{text}"
        );
    }
    assert!(
        text.contains("libpcap-dev") && text.contains("libpcap-devel"),
        "{text}"
    );
}
