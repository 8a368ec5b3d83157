//! The one error type of `continuum-orchestrator`.

/// The result of every fallible operation in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with cluster data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `cluster.conf` does not parse.
    #[error(transparent)]
    Parse(#[from] crate::dconf::ParseError),
    /// `cluster.conf` parses but a value has the wrong shape.
    #[error("{file}: {message}")]
    Conf {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A shared-core error.
    #[error(transparent)]
    Core(#[from] continuum_core::Error),
}
