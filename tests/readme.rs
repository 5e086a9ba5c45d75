//! The README's Quick start is `examples/quick_start.rs`, character for
//! character, so the program a reader pastes is the one CI compiles and runs.

#[test]
fn the_quick_start_is_the_example_file() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/quick_start.rs");
    let start =
        readme.find("```rust,no_run\nuse std::time::Duration;").expect("the Quick start's program in README.md");
    let body = &readme[start + "```rust,no_run\n".len()..];
    let block = &body[..body.find("```\n").expect("the end of the Quick start's program")];
    assert_eq!(block, example, "README.md's Quick start and examples/quick_start.rs differ");
}
