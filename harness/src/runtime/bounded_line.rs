//! Reading a contender's lines within a length limit: a line that never ends
//! (or is hundreds of megabytes long) costs at most the limit, and the caller
//! learns that it was cut.

use std::io::{BufRead, ErrorKind};

/// How one read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    /// A full line (its `\n` not kept), or the last bytes before end of file.
    Line,
    /// The line is longer than the limit: `out` holds its first `limit`
    /// bytes, the rest is still unread.
    TooLong,
    /// End of file before any byte.
    Eof,
}

/// Reads one line of at most `limit` bytes into `out` (cleared first).
pub fn read_line(reader: &mut impl BufRead, limit: usize, out: &mut Vec<u8>) -> std::io::Result<LineEnd> {
    out.clear();
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buffer.is_empty() {
            return Ok(if out.is_empty() { LineEnd::Eof } else { LineEnd::Line });
        }
        let room = limit - out.len();
        let newline = buffer.iter().take(room + 1).position(|b| *b == b'\n');
        match newline {
            Some(at) => {
                out.extend_from_slice(&buffer[..at]);
                reader.consume(at + 1);
                return Ok(LineEnd::Line);
            }
            None if buffer.len() > room => {
                out.extend_from_slice(&buffer[..room]);
                reader.consume(room);
                return Ok(LineEnd::TooLong);
            }
            None => {
                let taken = buffer.len();
                out.extend_from_slice(buffer);
                reader.consume(taken);
            }
        }
    }
}

/// Reads and drops the rest of a line (after [`LineEnd::TooLong`]); `false` at end of file.
pub fn skip_line(reader: &mut impl BufRead) -> std::io::Result<bool> {
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buffer.is_empty() {
            return Ok(false);
        }
        if let Some(at) = buffer.iter().position(|b| *b == b'\n') {
            reader.consume(at + 1);
            return Ok(true);
        }
        let taken = buffer.len();
        reader.consume(taken);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(input: &[u8], limit: usize) -> Vec<(Vec<u8>, LineEnd)> {
        let mut reader = std::io::BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        let mut all = Vec::new();
        loop {
            let end = read_line(&mut reader, limit, &mut out).unwrap();
            if end == LineEnd::Eof {
                return all;
            }
            all.push((out.clone(), end));
            if end == LineEnd::TooLong && !skip_line(&mut reader).unwrap() {
                return all;
            }
        }
    }

    #[test]
    fn long_lines_are_cut_at_the_limit() {
        let got = lines(b"ab\n0123456789abc\nlast", 10);
        assert_eq!(got[0], (b"ab".to_vec(), LineEnd::Line));
        assert_eq!(got[1], (b"0123456789".to_vec(), LineEnd::TooLong));
        assert_eq!(got[2], (b"last".to_vec(), LineEnd::Line));
        assert_eq!(lines(b"0123456789\n", 10), vec![(b"0123456789".to_vec(), LineEnd::Line)]);
        assert!(lines(b"", 10).is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        /// Every line read is within the limit, and lines within it come back whole.
        #[test]
        fn no_line_exceeds_the_limit(input in proptest::collection::vec(any::<u8>(), 0..300), limit in 1usize..40) {
            let got = lines(&input, limit);
            let expected: Vec<&[u8]> = input.split(|b| *b == b'\n').collect();
            for (line, end) in &got {
                prop_assert!(line.len() <= limit);
                if *end == LineEnd::Line {
                    prop_assert!(expected.contains(&line.as_slice()));
                }
            }
        }
    }
}
