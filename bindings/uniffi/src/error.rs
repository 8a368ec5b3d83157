//! The one error of the bindings: every library error, flattened at the edge into a kind
//! and the library's own message (which never holds a secret).

use std::io::ErrorKind;

/// What went wrong, by kind; the message is the library's text. Each language sees one
/// exception class per variant (`ContinuumError.NotFound` in Python,
/// `ContinuumUniffi::ContinuumError::NotFound` in Ruby, …) carrying the message.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum ContinuumError {
    /// Bad input: an FQN, a document, a path, an option, a `cluster.conf` that does not parse.
    #[error("{message}")]
    InvalidInput { message: String },
    /// A file, object, backup set or document that is not there.
    #[error("{message}")]
    NotFound { message: String },
    /// Something exists and would have been replaced (nothing was changed).
    #[error("{message}")]
    AlreadyExists { message: String },
    /// Data that fails its checks (digests, sizes, row counts).
    #[error("{message}")]
    Corrupt { message: String },
    /// A file could not be read or written, or a program could not be run.
    #[error("{message}")]
    Io { message: String },
    /// The store (folder or S3) failed.
    #[error("{message}")]
    Store { message: String },
    /// PostgreSQL, `pg_dump`, `pg_restore` or `psql` failed.
    #[error("{message}")]
    Database { message: String },
    /// A policy document has errors; the message lists them with `file:line:column`, the
    /// source line and a caret.
    #[error("{message}")]
    Policy { message: String },
    /// An orchestrator archive made by a release older than 2.4.0.
    #[error("{message}")]
    ReleaseGate { message: String },
    /// A git repository behind its upstream.
    #[error("{message}")]
    BehindUpstream { message: String },
    /// An encrypted set and no identity to open it.
    #[error("{message}")]
    IdentityRequired { message: String },
    /// Decryption failed (a wrong key, damaged data).
    #[error("{message}")]
    Decrypt { message: String },
    /// Anything else.
    #[error("{message}")]
    Other { message: String },
}

/// The constructor of a variant, picked by the library error's kind.
type Kind = fn(String) -> ContinuumError;

fn invalid_input(message: String) -> ContinuumError {
    ContinuumError::InvalidInput { message }
}
fn not_found(message: String) -> ContinuumError {
    ContinuumError::NotFound { message }
}
fn already_exists(message: String) -> ContinuumError {
    ContinuumError::AlreadyExists { message }
}
fn corrupt(message: String) -> ContinuumError {
    ContinuumError::Corrupt { message }
}
fn io(message: String) -> ContinuumError {
    ContinuumError::Io { message }
}
fn store(message: String) -> ContinuumError {
    ContinuumError::Store { message }
}
fn database(message: String) -> ContinuumError {
    ContinuumError::Database { message }
}
fn policy(message: String) -> ContinuumError {
    ContinuumError::Policy { message }
}
fn release_gate(message: String) -> ContinuumError {
    ContinuumError::ReleaseGate { message }
}
fn behind_upstream(message: String) -> ContinuumError {
    ContinuumError::BehindUpstream { message }
}
fn identity_required(message: String) -> ContinuumError {
    ContinuumError::IdentityRequired { message }
}
fn decrypt(message: String) -> ContinuumError {
    ContinuumError::Decrypt { message }
}
fn other(message: String) -> ContinuumError {
    ContinuumError::Other { message }
}

impl ContinuumError {
    /// Bad input the binding itself refuses (an unknown kind name, say).
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        invalid_input(message.into())
    }
}

fn core_kind(err: &continuum_core::Error) -> Kind {
    use continuum_core::Error as E;
    match err {
        E::InvalidFqn { .. }
        | E::InvalidDigest { .. }
        | E::UnsafePath { .. }
        | E::LimitExceeded { .. }
        | E::UnsupportedVersion { .. }
        | E::InvalidDocument { .. }
        | E::InvalidStoreUrl { .. }
        | E::InvalidInput { .. } => invalid_input,
        E::NotFound { .. } | E::SetNotFound { .. } => not_found,
        E::Io { source, .. } if source.kind() == ErrorKind::NotFound => not_found,
        E::AlreadyExists { .. } | E::FileExists { .. } => already_exists,
        E::Corrupt { .. } => corrupt,
        E::Io { .. } => io,
        E::Store { .. } => store,
        E::IdentityRequired { .. } => identity_required,
        E::Decrypt { .. } => decrypt,
        _ => other,
    }
}

fn policy_kind(err: &continuum_policy::Error) -> Kind {
    use continuum_policy::Error as E;
    match err {
        E::Core(core) => core_kind(core),
        E::Invalid { .. } => policy,
        E::TooLarge { .. }
        | E::NotText { .. }
        | E::InvalidName { .. }
        | E::NoMatch { .. }
        | E::BadPattern { .. }
        | E::DuplicateName { .. } => invalid_input,
        E::NotFound { .. } => not_found,
        _ => other,
    }
}

fn cntmp_kind(err: &continuum_cntmp::Error) -> Kind {
    use continuum_cntmp::Error as E;
    match err {
        E::Core(core) => core_kind(core),
        E::Conflict { .. } => already_exists,
        E::NothingMatches { .. } => not_found,
        E::Ambiguous { .. }
        | E::InvalidObject { .. }
        | E::BadManifest { .. }
        | E::NotAZip { .. }
        | E::MissingResource { .. } => invalid_input,
        E::BadEntry { .. } => corrupt,
        _ => other,
    }
}

/// A `Database` or `Artifact` error (a failure wrapped with the database or artifact it
/// concerns) takes the kind of its cause; its message names both.
fn orchestrator_kind(err: &continuum_orchestrator::Error) -> Kind {
    use continuum_orchestrator::Error as E;
    match err {
        E::Core(e) => core_kind(e),
        E::JobData(e) => cntmp_kind(e),
        E::Policy(e) => policy_kind(e),
        E::Database { source, .. } | E::Artifact { source, .. } => orchestrator_kind(source),
        E::Parse(_) | E::Conf { .. } | E::InvalidTarget { .. } | E::ArtifactMissing { .. } => {
            invalid_input
        }
        E::ReleaseGate { .. } => release_gate,
        E::DatabaseNotEmpty { .. } | E::RestoreConflicts { .. } => already_exists,
        E::RowCountMismatch { .. } | E::Archive { .. } => corrupt,
        E::BehindUpstream { .. } => behind_upstream,
        E::Postgres { .. } | E::ChildFailed { .. } => database,
        E::Spawn { .. } | E::Stream { .. } => io,
        _ => other,
    }
}

impl From<continuum_core::Error> for ContinuumError {
    fn from(err: continuum_core::Error) -> Self {
        core_kind(&err)(err.to_string())
    }
}

impl From<continuum_policy::Error> for ContinuumError {
    fn from(err: continuum_policy::Error) -> Self {
        policy_kind(&err)(err.to_string())
    }
}

impl From<continuum_cntmp::Error> for ContinuumError {
    fn from(err: continuum_cntmp::Error) -> Self {
        cntmp_kind(&err)(err.to_string())
    }
}

impl From<continuum_orchestrator::Error> for ContinuumError {
    fn from(err: continuum_orchestrator::Error) -> Self {
        orchestrator_kind(&err)(err.to_string())
    }
}

/// The results of the bindings.
pub type Result<T, E = ContinuumError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_not_found_and_keeps_the_library_message() {
        let source = std::io::Error::from(ErrorKind::NotFound);
        let err = continuum_core::Error::io("read", "/nowhere/cluster.conf", source);
        let text = err.to_string();
        match ContinuumError::from(err) {
            ContinuumError::NotFound { message } => assert_eq!(message, text),
            other => panic!("not NotFound: {other:?}"),
        }
    }

    #[test]
    fn a_wrapped_orchestrator_error_takes_the_kind_of_its_cause() {
        let cause = continuum_orchestrator::Error::DatabaseNotEmpty {
            database: "cdb".to_string(),
        };
        let err = continuum_orchestrator::Error::Artifact {
            artifact: "databases/cdb.dump.zst".to_string(),
            source: Box::new(cause),
        };
        assert!(matches!(
            ContinuumError::from(err),
            ContinuumError::AlreadyExists { .. }
        ));
    }
}
