//! Reading the harness's input files within bounds: regular files only (a
//! FIFO would block, `/dev/zero` never ends) and at most
//! [`crate::limits::MAX_FILE_BYTES`], so no file, however named or linked, can
//! hang a command or exhaust memory.

use std::io::Read;
use std::path::Path;

use crate::limits::MAX_FILE_BYTES;

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not a regular file (after following symlinks).
    #[error("not a regular file ({kind}): scenario, expectations and runtimes files must be regular files")]
    NotRegular {
        /// What it is instead.
        kind: &'static str,
    },
    /// Larger than the limit.
    #[error("larger than the limit of {limit} bytes ({size} bytes or more)")]
    TooLarge {
        /// Its size, or the bytes read before stopping.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The system refused.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not UTF-8.
    #[error("not UTF-8 text: {0}")]
    Utf8(#[from] std::string::FromUtf8Error),
}

/// What a non-regular file is, for the message.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// Reads `path` as UTF-8 text, refusing anything but a regular file of at
/// most [`MAX_FILE_BYTES`].
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    read_text_within(path, MAX_FILE_BYTES)
}

/// [`read_text`] with a limit of `limit` bytes.
pub fn read_text_within(path: &Path, limit: u64) -> Result<String, ReadError> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(ReadError::NotRegular { kind: kind_of(metadata.file_type()) });
    }
    if metadata.len() > limit {
        return Err(ReadError::TooLarge { size: metadata.len(), limit });
    }
    let file = std::fs::File::open(path)?;
    // The file may have been swapped or grown since: check what was opened,
    // and never read more than the limit.
    let opened = file.metadata()?;
    if !opened.is_file() {
        return Err(ReadError::NotRegular { kind: kind_of(opened.file_type()) });
    }
    let mut bytes = Vec::with_capacity(opened.len().min(limit) as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { size: bytes.len() as u64, limit });
    }
    Ok(String::from_utf8(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = std::env::temp_dir().join(format!("zkurator-bounded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let small = dir.join("small.toml");
        std::fs::write(&small, "x = 1\n").unwrap();
        assert_eq!(read_text(&small).unwrap(), "x = 1\n");
        let big = dir.join("big.toml");
        std::fs::write(&big, vec![b'#'; 101]).unwrap();
        assert!(matches!(read_text_within(&big, 100), Err(ReadError::TooLarge { size: 101, limit: 100 })));
        assert!(matches!(read_text(&dir), Err(ReadError::NotRegular { kind: "a directory" })));
        #[cfg(unix)]
        {
            let zero = dir.join("zero.toml");
            let _ = std::fs::remove_file(&zero);
            std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
            let error = read_text(&zero).unwrap_err();
            assert!(matches!(error, ReadError::NotRegular { kind: "a character device" }), "{error}");
        }
        std::fs::write(dir.join("bad.toml"), [0xff, 0xfe]).unwrap();
        assert!(matches!(read_text(&dir.join("bad.toml")), Err(ReadError::Utf8(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
