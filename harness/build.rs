//! Rebuilds the harness when a file it embeds changes: include_dir! does not
//! tell cargo which files it read, so every `include_dir!("$CARGO_MANIFEST_DIR/…")`
//! of `src/assets.rs` is watched here (adding a tree there is enough).

fn main() {
    const ASSETS: &str = "src/assets.rs";
    println!("cargo:rerun-if-changed={ASSETS}");
    let source = std::fs::read_to_string(ASSETS).expect("src/assets.rs is readable");
    for rest in source.split("include_dir!(\"$CARGO_MANIFEST_DIR/").skip(1) {
        if let Some(dir) = rest.split('"').next() {
            println!("cargo:rerun-if-changed={dir}");
        }
    }
}
