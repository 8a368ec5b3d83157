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
    /// A connection URL or connection setting is invalid (the password is never repeated).
    #[error("invalid PostgreSQL connection: {reason}")]
    InvalidTarget {
        /// What is wrong.
        reason: String,
    },
    /// The PostgreSQL server refused or failed a request.
    #[error("PostgreSQL `{target}`: {action}: {message}")]
    Postgres {
        /// The server and database, as `user@host:port/database` (never the password).
        target: String,
        /// What was being done (`connect`, `count the rows of \`public.t\`` …).
        action: String,
        /// The server's or the driver's message.
        message: String,
    },
    /// A program could not be started.
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A program ended with a failure status; its output does not count.
    #[error("`{program}` failed ({status}){}", stderr_suffix(stderr))]
    ChildFailed {
        /// The program.
        program: String,
        /// How it ended (`exit status: 1`, `signal: 9 (SIGKILL)` …).
        status: String,
        /// The last 64 KiB of what it wrote to stderr.
        stderr: String,
    },
    /// Streaming data to or from a program failed.
    #[error("{action}: {source}")]
    Stream {
        /// What was being done.
        action: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Backing up or restoring one database failed.
    #[error("database `{database}`: {source}")]
    Database {
        /// The database.
        database: String,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },
    /// A restore would replace a database that holds data.
    #[error(
        "database `{database}` exists and is not empty; nothing was changed (use force to replace it)"
    )]
    DatabaseNotEmpty {
        /// The database.
        database: String,
    },
    /// A backup set holds no dump of the database asked for.
    #[error("backup set `{set_id}` holds no artifact `{artifact}` (it holds: {available})")]
    ArtifactMissing {
        /// The set.
        set_id: String,
        /// The artifact looked for.
        artifact: String,
        /// The artifacts the set does hold, comma-separated.
        available: String,
    },
    /// A restored table does not hold the rows recorded at backup time.
    #[error("database `{database}`, table `{table}`: {}", row_mismatch(*expected, *actual))]
    RowCountMismatch {
        /// The restored database.
        database: String,
        /// The table, as `schema.table`.
        table: String,
        /// Rows recorded at backup time; `None` when the backup did not have the table.
        expected: Option<u64>,
        /// Rows found after the restore; `None` when the table is missing.
        actual: Option<u64>,
    },
    /// A shared-core error.
    #[error(transparent)]
    Core(#[from] continuum_core::Error),
    /// Job data could not be read, written or checked.
    #[error(transparent)]
    JobData(#[from] continuum_cntmp::Error),
    /// Policy documents could not be read, written or checked.
    #[error(transparent)]
    Policy(#[from] continuum_policy::Error),
    /// One artifact of a whole-platform backup or restore failed.
    #[error("artifact `{artifact}`: {source}")]
    Artifact {
        /// The artifact's name in the set.
        artifact: String,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },
    /// An orchestrator archive is malformed or holds what it may not.
    #[error("orchestrator archive `{archive}`: {message}")]
    Archive {
        /// The archive.
        archive: String,
        /// What is wrong.
        message: String,
    },
    /// An orchestrator archive was made by a release too old to restore automatically.
    #[error(
        "orchestrator archive `{archive}` was made by platform release {release}: restoring needs \
         release 2.4.0 or later, because orchestrator backups before 2.4.0 lack the metadata the \
         restore needs; nothing was changed. {MANUAL_RESTORE}"
    )]
    ReleaseGate {
        /// The archive.
        archive: String,
        /// The release it records.
        release: String,
    },
    /// A restore would replace what exists; nothing was changed.
    #[error("nothing was changed: {} (use force to replace)", conflicts.join("; "))]
    RestoreConflicts {
        /// Each conflict, in words.
        conflicts: Vec<String>,
    },
    /// A git branch is behind its upstream: committing would fork the shared history.
    #[error(
        "`{repo}`: branch `{branch}` is behind `{upstream}` by {behind} commit(s) (as last \
         fetched); nothing was changed (pull or rebase first)"
    )]
    BehindUpstream {
        /// The repository.
        repo: String,
        /// The branch.
        branch: String,
        /// Its upstream.
        upstream: String,
        /// Commits the upstream has that the branch has not.
        behind: u64,
    },
}

/// How to restore an orchestrator archive by hand.
pub(crate) const MANUAL_RESTORE: &str = "To restore it by hand, unpack it (`tar xzf`), load the \
roles with `psql -X -d postgres -f db/roles.sql`, create each database and load it from the \
archive's db/ folder with `psql -X -v ON_ERROR_STOP=1 -d <database> -f db/<database>.sql`, and \
copy the files of config/ into place by hand.";

/// Puts a program's stderr on lines of its own after the summary, when there is any.
fn stderr_suffix(stderr: &str) -> String {
    let trimmed = stderr.trim_end();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(":\n{trimmed}")
    }
}

fn row_mismatch(expected: Option<u64>, actual: Option<u64>) -> String {
    match (expected, actual) {
        (Some(e), Some(a)) => format!("expected {e} rows, found {a}"),
        (Some(e), None) => format!("expected {e} rows, but the table is missing"),
        (None, Some(a)) => format!("not in the backup, yet present with {a} rows"),
        (None, None) => "not in the backup and not present".to_string(),
    }
}
