//! The one error type of `continuum-cntmp`.

/// The result of every fallible operation in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with job data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A cntmp file is not a valid ZIP container.
    #[error("`{file}` is not a readable cntmp (ZIP) file: {message}")]
    NotAZip {
        /// The file.
        file: String,
        /// What the ZIP reader said.
        message: String,
    },
    /// An entry of a cntmp file is refused.
    #[error("`{file}`: entry `{entry}` is refused: {reason}")]
    BadEntry {
        /// The file.
        file: String,
        /// The entry name (control characters escaped).
        entry: String,
        /// Why.
        reason: String,
    },
    /// The manifest of a cntmp file is invalid.
    #[error("`{file}`: invalid manifest.json: {message}")]
    BadManifest {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// An object is invalid.
    #[error("invalid {kind} `{fqn}`: {reason}")]
    InvalidObject {
        /// Its kind.
        kind: String,
        /// Its FQN (or name).
        fqn: String,
        /// What is wrong.
        reason: String,
    },
    /// An object exists already in the target registry.
    #[error("`{fqn}` already exists in the registry (use skip-existing to keep it and skip)")]
    Conflict {
        /// The FQN.
        fqn: String,
    },
    /// Nothing matches what was asked for.
    #[error("no {what} matches `{pattern}`")]
    NothingMatches {
        /// What was looked for.
        what: &'static str,
        /// The name, FQN or pattern.
        pattern: String,
    },
    /// A name matches several objects.
    #[error("`{pattern}` is ambiguous: it names {}; give the FQN", candidates.join(", "))]
    Ambiguous {
        /// The name.
        pattern: String,
        /// The FQNs it matches.
        candidates: Vec<String>,
    },
    /// A package needs a resource the registry does not have.
    #[error("`{fqn}` needs the resource {digest}, which the registry does not hold")]
    MissingResource {
        /// The package.
        fqn: String,
        /// The resource's digest.
        digest: String,
    },
    /// A shared-core error (I/O, digests, sizes, FQNs).
    #[error(transparent)]
    Core(#[from] continuum_core::Error),
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<std::path::PathBuf>,
        e: std::io::Error,
    ) -> Self {
        Error::Core(continuum_core::Error::io(action, path, e))
    }
}
