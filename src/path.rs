//! Lock path validation, done before any request reaches ZooKeeper.

use std::fmt;

/// Why a lock path was rejected.
///
/// ```
/// use zkurator::{validate_lock_path, PathProblem};
/// assert_eq!(validate_lock_path("/locks/orders"), Ok(()));
/// assert_eq!(validate_lock_path("/locks/"), Err(PathProblem::TrailingSlash));
/// assert_eq!(validate_lock_path("/locks/lock-\u{1f512}"), Err(PathProblem::UnsupportedCharacter));
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathProblem {
    /// The path is the empty string.
    Empty,
    /// The path does not start with `/`.
    Relative,
    /// The path is `/`: a lock needs its own directory node.
    Root,
    /// The path ends with `/`.
    TrailingSlash,
    /// The path contains `//` (an empty component).
    EmptyComponent,
    /// A component is `.` or `..`.
    RelativeComponent,
    /// The path contains NUL or another control character.
    ControlCharacter,
    /// The path contains a character ZooKeeper refuses in paths: private use
    /// (U+E000..U+F8FF), U+FFF0..U+FFFF, or any beyond U+FFFF (an emoji,
    /// which Java's strings hold as surrogates, U+D800..U+DFFF).
    UnsupportedCharacter,
    /// The path is `/zookeeper` or below it (reserved by the server).
    Reserved,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathProblem::Empty => "it is empty",
            PathProblem::Relative => "it must start with '/'",
            PathProblem::Root => "it is the root; use a node of its own, e.g. /locks/name",
            PathProblem::TrailingSlash => "it must not end with '/'",
            PathProblem::EmptyComponent => "it contains '//'",
            PathProblem::RelativeComponent => "'.' and '..' are not allowed as components",
            PathProblem::ControlCharacter => "it contains NUL or a control character",
            PathProblem::UnsupportedCharacter => {
                "it contains a character ZooKeeper refuses (private use, U+FFF0..U+FFFF, or beyond U+FFFF)"
            }
            PathProblem::Reserved => "/zookeeper is reserved by the server",
        })
    }
}

/// Checks that `path` can serve as a lock directory.
///
/// ```
/// use zkurator::{validate_lock_path, PathProblem};
/// assert_eq!(validate_lock_path("/locks/orders"), Ok(()));
/// assert_eq!(validate_lock_path("locks"), Err(PathProblem::Relative));
/// assert_eq!(validate_lock_path("/zookeeper/quota"), Err(PathProblem::Reserved));
/// ```
pub fn validate_lock_path(path: &str) -> Result<(), PathProblem> {
    if path.is_empty() {
        return Err(PathProblem::Empty);
    }
    if !path.starts_with('/') {
        return Err(PathProblem::Relative);
    }
    if path == "/" {
        return Err(PathProblem::Root);
    }
    if path.chars().any(char::is_control) {
        return Err(PathProblem::ControlCharacter);
    }
    if path.chars().any(is_refused_char) {
        return Err(PathProblem::UnsupportedCharacter);
    }
    if path.ends_with('/') {
        return Err(PathProblem::TrailingSlash);
    }
    for component in path[1..].split('/') {
        match component {
            "" => return Err(PathProblem::EmptyComponent),
            "." | ".." => return Err(PathProblem::RelativeComponent),
            _ => {}
        }
    }
    if path == "/zookeeper" || path.starts_with("/zookeeper/") {
        return Err(PathProblem::Reserved);
    }
    Ok(())
}

/// The characters besides control ones that ZooKeeper's own path validation
/// refuses (its ranges are of UTF-16 units: a character beyond U+FFFF is a
/// surrogate pair there, in the refused U+D800..U+F8FF).
fn is_refused_char(c: char) -> bool {
    ('\u{e000}'..='\u{f8ff}').contains(&c) || ('\u{fff0}'..='\u{ffff}').contains(&c) || c > '\u{ffff}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_paths() {
        for path in ["/a", "/locks/orders", "/a/b/c-d_e.f", "/zookeeperish", "/x/zookeeper"] {
            assert_eq!(validate_lock_path(path), Ok(()), "{path}");
        }
    }

    #[test]
    fn rejects_each_problem() {
        let cases = [
            ("", PathProblem::Empty),
            ("locks", PathProblem::Relative),
            ("/", PathProblem::Root),
            ("/locks/", PathProblem::TrailingSlash),
            ("/locks//a", PathProblem::EmptyComponent),
            ("/locks/./a", PathProblem::RelativeComponent),
            ("/locks/..", PathProblem::RelativeComponent),
            ("/locks/a\0b", PathProblem::ControlCharacter),
            ("/locks/a\nb", PathProblem::ControlCharacter),
            ("/locks/\u{7f}", PathProblem::ControlCharacter),
            ("/locks/\u{fff5}", PathProblem::UnsupportedCharacter),
            ("/locks/lock-\u{1f512}", PathProblem::UnsupportedCharacter),
            ("/locks/\u{e001}", PathProblem::UnsupportedCharacter),
            ("/zookeeper", PathProblem::Reserved),
            ("/zookeeper/quota", PathProblem::Reserved),
        ];
        for (path, problem) in cases {
            assert_eq!(validate_lock_path(path), Err(problem), "{path:?}");
        }
    }
}
