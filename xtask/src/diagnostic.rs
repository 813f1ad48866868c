//! Errors that point at the place in a source file that caused them.

use std::fmt;
use std::path::PathBuf;

/// A line and column in a source file, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One problem found in an OpenAPI source: which file, where in it, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, relative to the project root.
    pub file: PathBuf,
    /// Where in the file, when known.
    pub position: Option<Position>,
    /// A JSON pointer (RFC 6901) to the offending node; empty for the whole document.
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(position) = self.position {
            write!(f, ":{}:{}", position.line, position.column)?;
        }
        write!(f, ": {}", self.message)?;
        if !self.pointer.is_empty() {
            write!(f, " (at #{})", self.pointer)?;
        }
        Ok(())
    }
}

pub use laserdata_spec::pointer::{push_token, tokens};

/// The JSON pointer of the place a `serde_path_to_error` deserialization failed.
pub fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter().fold(String::new(), |pointer, segment| match segment {
        Segment::Seq { index } => push_token(&pointer, &index.to_string()),
        Segment::Map { key } => push_token(&pointer, key),
        Segment::Enum { variant } => push_token(&pointer, variant),
        Segment::Unknown => pointer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_column_and_pointer() {
        let diagnostic = Diagnostic {
            file: PathBuf::from("openapi/main.yaml"),
            position: Some(Position { line: 12, column: 7 }),
            pointer: "/paths".into(),
            message: "broken".into(),
        };
        assert_eq!(diagnostic.to_string(), "openapi/main.yaml:12:7: broken (at #/paths)");
    }
}
