//! `ZKURATOR_HARNESS=1` (set by this workspace's `.cargo/config.toml`, `[env]`)
//! makes the pure driver, node names and negative controls public for the
//! harness: `--cfg zkurator_harness`. An environment variable survives a
//! user's own `RUSTFLAGS` (which replace the config's `rustflags`), and a crate
//! that depends on zkurator cannot set it for zkurator's build. `ZKURATOR_LOOM=1`
//! builds the loom model tests of the guard count (`--cfg zkurator_loom`).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(zkurator_harness)");
    println!("cargo::rustc-check-cfg=cfg(zkurator_loom)");
    println!("cargo::rerun-if-env-changed=ZKURATOR_HARNESS");
    println!("cargo::rerun-if-env-changed=ZKURATOR_LOOM");
    if std::env::var("ZKURATOR_HARNESS").is_ok_and(|v| v == "1") {
        println!("cargo::rustc-cfg=zkurator_harness");
    }
    if std::env::var("ZKURATOR_LOOM").is_ok_and(|v| v == "1") {
        println!("cargo::rustc-cfg=zkurator_loom");
    }
}
