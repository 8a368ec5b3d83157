//! Status codes, and the flattening of every library error into one of them.

use continuum_policy::Diagnostic;

/// What a call of the C ABI came to. Every function that can fail returns one: 0 on
/// success, a negative kind of failure otherwise, with the details in the thread's last
/// error (`continuum_last_error_message`, `continuum_last_error_json`).
///
/// New kinds may be added; treat an unknown negative value as a failure of unknown kind.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContinuumStatus {
    /// Success.
    Ok = 0,
    /// The call itself is malformed: a `NULL` pointer where one is required, text that is
    /// not UTF-8, JSON arguments that do not parse or hold an unknown option.
    InvalidArgument = -1,
    /// The library refused a value: a malformed FQN, store URL, set id, DSN, policy name,
    /// `cluster.conf`, a file that is not a cntmp, an empty selection …
    InvalidInput = -2,
    /// Something named does not exist: a file, a backup set, an artifact, an object.
    NotFound = -3,
    /// Something exists already and would be replaced (use `force`), or a restore conflicts
    /// with what is there.
    Conflict = -4,
    /// Data does not match what was recorded for it: a digest, a size, a row count.
    Corrupt = -5,
    /// A file system, store or stream operation failed.
    Io = -6,
    /// PostgreSQL failed: the connection, a query, `pg_dump`, `pg_restore` or `psql`.
    Database = -7,
    /// A policy document has errors; `continuum_last_error_json` lists the diagnostics.
    Policy = -8,
    /// Encrypted data could not be read: no identity given, or none that matches.
    Decrypt = -9,
    /// A bug: a panic was caught at the boundary (it never unwinds into C).
    Panic = -10,
    /// A failure of a kind this build does not classify.
    Other = -11,
}

impl ContinuumStatus {
    /// The name `continuum_last_error_json` gives the kind.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::InvalidArgument => "invalid_argument",
            Self::InvalidInput => "invalid_input",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Corrupt => "corrupt",
            Self::Io => "io",
            Self::Database => "database",
            Self::Policy => "policy",
            Self::Decrypt => "decrypt",
            Self::Panic => "panic",
            Self::Other => "other",
        }
    }
}

/// A failed call, flattened: its status, the library's message, and the diagnostics of a
/// policy document with errors.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: ContinuumStatus,
    pub(crate) message: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Failure {
    pub(crate) fn new(status: ContinuumStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }

    /// A malformed call.
    pub(crate) fn argument(message: impl Into<String>) -> Self {
        Self::new(ContinuumStatus::InvalidArgument, message)
    }

    /// A value the binding refuses before calling the library.
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self::new(ContinuumStatus::InvalidInput, message)
    }
}

/// The status of a core error. A missing file is `NotFound`, whatever was being done.
fn core_status(err: &continuum_core::Error) -> ContinuumStatus {
    use ContinuumStatus as S;
    use continuum_core::Error as E;
    match err {
        E::InvalidFqn { .. }
        | E::InvalidDigest { .. }
        | E::UnsafePath { .. }
        | E::LimitExceeded { .. }
        | E::UnsupportedVersion { .. }
        | E::InvalidDocument { .. }
        | E::InvalidStoreUrl { .. }
        | E::InvalidInput { .. } => S::InvalidInput,
        E::NotFound { .. } | E::SetNotFound { .. } => S::NotFound,
        E::AlreadyExists { .. } | E::FileExists { .. } => S::Conflict,
        E::Corrupt { .. } => S::Corrupt,
        E::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => S::NotFound,
        E::Store { .. } | E::Io { .. } => S::Io,
        E::IdentityRequired { .. } | E::Decrypt { .. } => S::Decrypt,
        _ => S::Other,
    }
}

fn policy_status(err: &continuum_policy::Error) -> ContinuumStatus {
    use ContinuumStatus as S;
    use continuum_policy::Error as E;
    match err {
        E::Core(core) => core_status(core),
        E::Invalid { .. } => S::Policy,
        E::TooLarge { .. }
        | E::NotText { .. }
        | E::InvalidName { .. }
        | E::NoMatch { .. }
        | E::BadPattern { .. }
        | E::DuplicateName { .. } => S::InvalidInput,
        E::NotFound { .. } => S::NotFound,
        _ => S::Other,
    }
}

fn cntmp_status(err: &continuum_cntmp::Error) -> ContinuumStatus {
    use ContinuumStatus as S;
    use continuum_cntmp::Error as E;
    match err {
        E::Core(core) => core_status(core),
        E::Conflict { .. } => S::Conflict,
        E::NothingMatches { .. } => S::NotFound,
        E::Ambiguous { .. }
        | E::InvalidObject { .. }
        | E::BadManifest { .. }
        | E::NotAZip { .. }
        | E::MissingResource { .. } => S::InvalidInput,
        E::BadEntry { .. } => S::Corrupt,
        _ => S::Other,
    }
}

/// The status of an orchestrator error: a `Database` or `Artifact` wrapper takes its cause's.
fn orchestrator_status(err: &continuum_orchestrator::Error) -> ContinuumStatus {
    use ContinuumStatus as S;
    use continuum_orchestrator::Error as E;
    match err {
        E::Core(core) => core_status(core),
        E::JobData(e) => cntmp_status(e),
        E::Policy(e) => policy_status(e),
        E::Database { source, .. } | E::Artifact { source, .. } => orchestrator_status(source),
        E::Parse(_) | E::Conf { .. } | E::InvalidTarget { .. } | E::ReleaseGate { .. } => {
            S::InvalidInput
        }
        E::ArtifactMissing { .. } => S::NotFound,
        E::DatabaseNotEmpty { .. } | E::RestoreConflicts { .. } | E::BehindUpstream { .. } => {
            S::Conflict
        }
        E::RowCountMismatch { .. } | E::Archive { .. } => S::Corrupt,
        E::ChildFailed { .. } | E::Postgres { .. } | E::Spawn { .. } | E::Stream { .. } => {
            S::Database
        }
        _ => S::Other,
    }
}

/// The policy error inside `Database` and `Artifact` wrappers, if that is what it is.
fn inner_policy(err: &continuum_orchestrator::Error) -> Option<&continuum_policy::Error> {
    use continuum_orchestrator::Error as E;
    match err {
        E::Database { source, .. } | E::Artifact { source, .. } => inner_policy(source),
        E::Policy(policy) => Some(policy),
        _ => None,
    }
}

impl From<continuum_core::Error> for Failure {
    fn from(err: continuum_core::Error) -> Self {
        Self::new(core_status(&err), err.to_string())
    }
}

impl From<continuum_policy::Error> for Failure {
    fn from(err: continuum_policy::Error) -> Self {
        Self {
            status: policy_status(&err),
            diagnostics: err.diagnostics().to_vec(),
            message: err.to_string(),
        }
    }
}

impl From<continuum_cntmp::Error> for Failure {
    fn from(err: continuum_cntmp::Error) -> Self {
        Self::new(cntmp_status(&err), err.to_string())
    }
}

impl From<continuum_orchestrator::Error> for Failure {
    fn from(err: continuum_orchestrator::Error) -> Self {
        Self {
            status: orchestrator_status(&err),
            diagnostics: inner_policy(&err)
                .map(|p| p.diagnostics().to_vec())
                .unwrap_or_default(),
            message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_not_found() {
        let err = continuum_core::Error::io(
            "open",
            "/nowhere",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(Failure::from(err).status, ContinuumStatus::NotFound);
        let denied = continuum_core::Error::io(
            "open",
            "/root",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert_eq!(Failure::from(denied).status, ContinuumStatus::Io);
    }

    #[test]
    fn wrapped_errors_take_their_cause_status() {
        let err = continuum_orchestrator::Error::Database {
            database: "cdb".to_string(),
            source: Box::new(continuum_orchestrator::Error::Core(
                continuum_core::Error::Corrupt {
                    entry: "x".to_string(),
                    expected: "a".to_string(),
                    actual: "b".to_string(),
                },
            )),
        };
        let failure = Failure::from(err);
        assert_eq!(failure.status, ContinuumStatus::Corrupt);
        assert!(failure.message.contains("cdb"), "{}", failure.message);
    }

    #[test]
    fn names_are_distinct() {
        let all = [
            ContinuumStatus::Ok,
            ContinuumStatus::InvalidArgument,
            ContinuumStatus::InvalidInput,
            ContinuumStatus::NotFound,
            ContinuumStatus::Conflict,
            ContinuumStatus::Corrupt,
            ContinuumStatus::Io,
            ContinuumStatus::Database,
            ContinuumStatus::Policy,
            ContinuumStatus::Decrypt,
            ContinuumStatus::Panic,
            ContinuumStatus::Other,
        ];
        let names: std::collections::BTreeSet<_> = all.iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), all.len());
    }
}
