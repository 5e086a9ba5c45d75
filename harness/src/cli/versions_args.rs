//! The command line a child of the version axis gets: the parent's, without
//! the version flags.

/// The command line without `--curator` and `--zookeeper` (each child of the
/// version axis gets its own).
pub fn without_version_args(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut skip_value = false;
    for arg in args {
        let text = arg.to_string_lossy();
        if std::mem::take(&mut skip_value) {
            continue;
        }
        let versioned = ["--curator", "--zookeeper", "--kazurator"];
        if versioned.contains(&text.as_ref()) {
            skip_value = true;
        } else if !versioned.iter().any(|flag| text.starts_with(&format!("{flag}="))) {
            out.push(arg);
        }
    }
    out
}
