//! The one error type of `continuum-policy`.

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;

/// The result of every fallible operation in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with policy documents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A document has errors; every one found is listed, with its place.
    #[error("`{file}` has {} error(s):\n{}", errors(.diagnostics).count(), render(.diagnostics))]
    Invalid {
        /// The file or document name.
        file: String,
        /// Every error and warning found.
        diagnostics: Vec<Diagnostic>,
    },
    /// A document is over the size limit.
    #[error("`{file}` is {size} bytes; a policy document holds at most {limit} bytes (512 KB)")]
    TooLarge {
        /// The file or document name.
        file: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A document is not UTF-8 text.
    #[error("`{}` is not UTF-8 text (invalid byte at offset {offset})", path.display())]
    NotText {
        /// The file.
        path: PathBuf,
        /// Where the first invalid byte is.
        offset: usize,
    },
    /// No document of that name.
    #[error("no policy document named `{name}` in `{store}`")]
    NotFound {
        /// The name asked for.
        name: String,
        /// The store.
        store: String,
    },
    /// A document name is not usable as a file name.
    #[error("invalid document name `{name}`: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// What is expected.
        reason: &'static str,
    },
    /// A pattern or file given to import matched nothing.
    #[error("`{pattern}` matches no file")]
    NoMatch {
        /// The pattern.
        pattern: String,
    },
    /// A glob pattern is malformed.
    #[error("invalid pattern `{pattern}`: {reason}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        reason: String,
    },
    /// Two files to import would become the same document.
    #[error("`{}` and `{}` would both become the document `{name}`", first.display(), second.display())]
    DuplicateName {
        /// The document name.
        name: String,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
    /// The formatter's output did not mean what its input meant (a bug; nothing was written).
    #[error(
        "formatting `{file}` would change its meaning; the file was left alone (please report this)"
    )]
    FormatterChangedMeaning {
        /// The file.
        file: String,
    },
    /// A shared-core error (I/O, files that exist, JSON).
    #[error(transparent)]
    Core(#[from] continuum_core::Error),
}

fn errors(d: &[Diagnostic]) -> impl Iterator<Item = &Diagnostic> {
    d.iter().filter(|d| d.is_error())
}

fn render(d: &[Diagnostic]) -> String {
    d.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// The diagnostics of an [`Error::Invalid`]; empty for any other error.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Invalid { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, e: std::io::Error) -> Self {
        Error::Core(continuum_core::Error::io(action, path, e))
    }
}
