//! A version matrix keeps its reports: with `--json=F` / `--json F` /
//! `--junit F`, every child writes its own files and the parent one merged
//! report at F, every entry with the versions it ran at. The two kazurator
//! releases make a matrix that needs no download (these runs use zkurator
//! only); the real binary against a real ZooKeeper.

use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_zkurator-harness");

const RUST_ONLY: &str = r#"description = "zkurator alone."
lock = "mutex"
contenders = { a = "rust" }
steps = ["a acquire mutex => granted", "a release mutex"]
"#;

fn harness(dir: &Path, args: &[&str]) -> std::process::Output {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let server = zkurator_testserver::shared_connect_string().expect("a ZooKeeper server");
    Command::new(BIN)
        .args(args)
        .args(["--curator", "debian", "--kazurator", "0.1.1,0.2.0", "--zk-connect", &server])
        .arg("--scenarios")
        .arg(corpus)
        .env("TMPDIR", dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn run_and_gen_in_a_matrix_write_one_merged_report_and_one_per_combination() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rust-only.toml");
    std::fs::write(&file, RUST_ONLY).unwrap();
    let (merged, junit) = (dir.path().join("r.json"), dir.path().join("r.xml"));
    let json_flag = format!("--json={}", merged.display());
    let out = harness(dir.path(), &["run", file.to_str().unwrap(), &json_flag, "--junit", junit.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let report = json(&merged);
    let entries = report["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{report}");
    assert_eq!(entries[0]["versions"], "curator@5.4.0 (debian) kazurator@0.1.1");
    assert_eq!(entries[1]["versions"], "curator@5.4.0 (debian) kazurator@0.2.0");
    assert_eq!(report["combinations"][1]["exit_code"], 0);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 2, "{xml}");
    assert!(xml.contains("<property name=\"versions\" value=\"curator@5.4.0 (debian) kazurator@0.2.0\"/>"), "{xml}");
    for tag in ["curator-5.4.0-debian-kazurator-0.1.1", "curator-5.4.0-debian-kazurator-0.2.0"] {
        let own = json(&dir.path().join(format!("r-{tag}.json")));
        assert_eq!(own["entries"].as_array().unwrap().len(), 1, "{own}");
        assert!(dir.path().join(format!("r-{tag}.xml")).is_file());
    }

    let gen_json = dir.path().join("g.json");
    let regressions = dir.path().join("corpus");
    let out = harness(dir.path(), &["gen", "--cases", "1", "--runtimes", "rust", "--json", gen_json.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let report = json(&gen_json);
    assert_eq!(report["combinations"].as_array().unwrap().len(), 2, "{report}");
    assert!(report["combinations"].as_array().unwrap().iter().all(|c| c["report"].is_object()), "{report}");
    assert!(!regressions.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("zkurator-versions-"))
        .collect();
    assert!(left.is_empty(), "scratch directories left: {left:?}");
}
