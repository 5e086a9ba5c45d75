//! Rebuilds the harness when a file it embeds changes: include_dir! does not
//! tell cargo which files it read, so every `include_dir!("$CARGO_MANIFEST_DIR/…")`
//! of `src/assets.rs` is watched here (adding a tree there is enough).
//!
//! Also puts j4rs's jar (which j4rs's build script copies to
//! `target/<profile>/jassets`; j4rs is a build dependency so that it runs
//! first) into `$OUT_DIR/j4rs`, the tree `src/assets.rs` embeds as `j4rs`:
//! an installed binary has no jassets directory beside it.

use std::path::PathBuf;

fn main() {
    const ASSETS: &str = "src/assets.rs";
    println!("cargo:rerun-if-changed={ASSETS}");
    let source = std::fs::read_to_string(ASSETS).expect("src/assets.rs is readable");
    for rest in source.split("include_dir!(\"$CARGO_MANIFEST_DIR/").skip(1) {
        if let Some(dir) = rest.split('"').next() {
            println!("cargo:rerun-if-changed={dir}");
        }
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dest = out.join("j4rs");
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(&dest).expect("OUT_DIR is writable");
    // OUT_DIR is target/<profile>/build/<package>-<hash>/out.
    let Some(jassets) = out.ancestors().nth(3).map(|profile| profile.join("jassets")) else { return };
    let Ok(entries) = std::fs::read_dir(&jassets) else {
        println!("cargo:warning=no {}: the Curator runtime of this binary needs one beside it", jassets.display());
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("j4rs-") && name.ends_with("-jar-with-dependencies.jar") {
            std::fs::copy(entry.path(), dest.join(&name)).expect("the j4rs jar copies");
        }
    }
}
