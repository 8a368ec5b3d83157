"""continuum_backup.orchestrator: cluster.conf, the orchestrator archive and the installation
files, over the Rust library continuum-orchestrator.

Errors of ``ClusterConf``: ``InvalidInputError`` when the text does not parse (the message
starts with ``file:line:column``) or a value has the wrong shape (``components.a`` not a whole
number, ``database_backups`` missing a key …); ``StoreError`` when the file cannot be read.

Errors of the archive functions: ``InvalidInputError`` for a bad URL or option (no release, a
missing ``orchestrator`` database, two configuration files of the same name);
``ReleaseGateError`` (an ``InvalidInputError``) when ``restore`` is given an archive made
before platform release 2.4.0, before anything changes — the message says how to restore it
by hand; ``CorruptError`` when an archive is malformed (``metadata.json`` not first, an
unlisted or missing member, a link) or a member does not match its size or SHA-256 (the
message names the member), or when a restored table does not hold the recorded rows;
``AlreadyExistsError`` when a restore would replace a database holding data or a file that
differs and ``force`` is not given (nothing is changed), or an archive of the same name
exists; ``BehindUpstreamError`` when ``snapshot_to_git`` finds the branch behind its
upstream; ``StoreError`` when the server, a PostgreSQL program (``pg_dump``,
``pg_dumpall``, ``psql``), ``git`` or the file system fails. Messages never hold a password.

``dsn`` is a ``postgresql://user@host:port/database`` URL; ``None`` takes the server from the
environment, as ``psql`` would (``DATABASE_URL``, then ``PGHOST``, ``PGPORT``, ``PGUSER``,
``PGPASSWORD``, ``PGDATABASE``). SHA-256 digests are written ``sha256:<64 hex digits>``.
"""

import os
from collections.abc import Sequence
from typing import Any, final

__all__ = [
    "Archive",
    "ArchiveReport",
    "ClusterConf",
    "DatabaseBackups",
    "GitSnapshot",
    "InstallationFile",
    "MachineGroup",
    "Placement",
    "RestoreItem",
    "RestoreReport",
    "RestoredDatabase",
    "RestoredFile",
    "backup",
    "collect_installation_files",
    "restore",
    "snapshot_to_git",
    "verify",
]

@final
class ClusterConf:
    """A parsed ``cluster.conf`` with typed views. Its secrets never reach Python."""

    @staticmethod
    def load(path: str | os.PathLike[str]) -> ClusterConf:
        """Reads and parses a file."""

    @staticmethod
    def parse(text: str, file: str = "cluster.conf") -> ClusterConf:
        """Parses text; ``file`` names it in errors."""

    @property
    def file(self) -> str:
        """The file it came from (the name given to ``parse``)."""

    @property
    def cluster_name(self) -> str | None:
        """``chef.continuum.cluster_name``."""

    @property
    def base_domain(self) -> str | None:
        """``chef.continuum.base_domain``."""

    @property
    def provisioner(self) -> str | None:
        """``provisioner.type``."""

    @property
    def machine_groups(self) -> list[MachineGroup]:
        """``machines``, in order."""

    @property
    def components(self) -> dict[str, int]:
        """``components``: how many of each."""

    @property
    def database_backups(self) -> DatabaseBackups | None:
        """``chef.continuum.database_backups``, when configured."""

    def placement(self, host: str) -> Placement:
        """What ``host`` keeps of the database backups (the placement rule)."""

    def to_dict(self) -> dict[str, Any]:
        """Every typed view and the whole tree (``tree``), secrets replaced by ``***``."""

@final
class MachineGroup:
    """A group of machines and the components they may run."""

    @property
    def name(self) -> str: ...
    @property
    def hosts(self) -> list[str]:
        """In order; the first is the group's master."""

    @property
    def suitable_tags(self) -> list[str]:
        """The component tags its machines take."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class DatabaseBackups:
    """The S3 bucket of the database backups. Its keys stay in Rust."""

    @property
    def bucket(self) -> str: ...
    @property
    def region(self) -> str:
        """The S3 region (cluster.conf calls it ``endpoint``)."""

    @property
    def store_url(self) -> str:
        """``s3://<bucket>/database_backups``."""

    @property
    def has_credentials(self) -> bool:
        """The access key and the secret key are both set."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class Placement:
    """What one host keeps of the database backups."""

    @property
    def host(self) -> str: ...
    @property
    def databases(self) -> list[str]:
        """The database components it serves."""

    @property
    def keep_local(self) -> bool:
        """It keeps a copy in its local backup folder."""

    @property
    def upload_s3(self) -> bool:
        """Its backups go to the S3 bucket."""

    @property
    def local_dir(self) -> str: ...
    @property
    def reason(self) -> str:
        """Why, in words."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class Archive:
    """An orchestrator archive just written by ``backup``."""

    @property
    def path(self) -> str:
        """``<out_dir>/orchestrator_backup_<YYYYMMDDTHHMMSSZ>.tgz``."""

    @property
    def size(self) -> int:
        """Its size in bytes."""

    @property
    def sha256(self) -> str:
        """The SHA-256 of the ``.tgz`` file."""

    @property
    def metadata(self) -> dict[str, Any]:
        """Its ``metadata.json``: ``format_version``, ``created_at``, ``host``,
        ``host_addresses``, ``cluster_name``, ``platform_release``, ``postgresql_version``,
        ``release`` (``version``, ``version_file``, ``bundle``), ``databases`` (``name``,
        ``owner``, ``file``, ``row_counts``), ``roles``, ``config`` and ``members`` (``path``,
        ``size``, ``sha256``). A new dict on every access."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class ArchiveReport:
    """What ``verify`` found: the archive is sound when it returns one."""

    @property
    def archive(self) -> str: ...
    @property
    def size(self) -> int:
        """Its size in bytes."""

    @property
    def members(self) -> int:
        """Members checked (size and SHA-256), ``metadata.json`` aside."""

    @property
    def bytes(self) -> int:
        """Their bytes, uncompressed."""

    @property
    def restorable(self) -> bool:
        """Its release can be restored (2.4.0 or later); an older archive is sound but must
        be restored by hand."""

    @property
    def release(self) -> str:
        """The platform release it was made with."""

    @property
    def metadata(self) -> dict[str, Any]:
        """Its ``metadata.json`` (see ``Archive.metadata``)."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class RestoreItem:
    """One item of a restore plan, in the order they are restored."""

    @property
    def kind(self) -> str:
        """``roles``, ``database``, ``config_file`` or ``release_file``."""

    @property
    def name(self) -> str:
        """The database, or the path of the file written; for the roles the server, and for a
        release file left in the archive its member."""

    @property
    def member(self) -> str:
        """Its member in the archive (``db/orchestrator.sql``, ``config/main.tf`` …)."""

    @property
    def action(self) -> str:
        """``create`` (missing), ``fill`` (an empty database), ``replace`` (holds data or
        differs, with ``force``), ``apply`` (the roles script), ``skip`` (identical, or not
        asked for) or ``conflict`` (holds data or differs, without ``force``: the restore is
        refused)."""

    @property
    def size(self) -> int:
        """Its size in the archive."""

    @property
    def detail(self) -> str:
        """Why, when it is not obvious; may be empty."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class RestoredDatabase:
    """One database after the restore, its tables counted against the archive."""

    @property
    def name(self) -> str: ...
    @property
    def action(self) -> str:
        """What was done to it: ``create``, ``fill`` or ``replace``."""

    @property
    def ok(self) -> bool:
        """Every table holds the rows recorded at backup time (always, when returned)."""

    @property
    def tables(self) -> list[tuple[str, int | None, int | None]]:
        """``(table, expected, actual)`` of every table (``schema.table``), by name."""

    @property
    def total_rows(self) -> int:
        """Rows in all tables."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class RestoredFile:
    """One file written by the restore (or found identical), as read back."""

    @property
    def path(self) -> str: ...
    @property
    def action(self) -> str:
        """``create``, ``replace`` or ``skip`` (it was identical)."""

    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str:
        """Equal to the archived one."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class RestoreReport:
    """What ``restore`` did and found, or with ``dry_run`` what it would do."""

    @property
    def archive(self) -> str: ...
    @property
    def dry_run(self) -> bool:
        """Nothing was done: the plan was only shown."""

    @property
    def items(self) -> list[RestoreItem]:
        """The plan carried out (or shown)."""

    @property
    def databases(self) -> list[RestoredDatabase]:
        """The restored databases, verified; empty for a dry run."""

    @property
    def files(self) -> list[RestoredFile]:
        """The files written or found identical, verified; empty for a dry run."""

    @property
    def warnings(self) -> list[str]:
        """What deserves attention: this host's addresses differ from the archived ones, the
        archive holds no roles …"""

    def to_dict(self) -> dict[str, Any]: ...

@final
class InstallationFile:
    """An installation file (``cluster.conf``, ``*.tf``, ``*.tfvars``) with what it held when
    it was collected."""

    @property
    def path(self) -> str:
        """Where the file is."""

    @property
    def name(self) -> str:
        """Its name in a snapshot: the path below the folder it was found in (``/``
        separated), or the file name for a file given by itself."""

    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class GitSnapshot:
    """What ``snapshot_to_git`` did."""

    @property
    def repo(self) -> str: ...
    @property
    def initialized(self) -> bool:
        """The repository was created (``git init``) by this snapshot."""

    @property
    def changed(self) -> list[str]:
        """The files whose content changed (or that are new), by name."""

    @property
    def commit(self) -> str | None:
        """The commit made; ``None`` when nothing had changed."""

    @property
    def head(self) -> str | None:
        """The commit the branch points at afterwards."""

    def to_dict(self) -> dict[str, Any]: ...

def backup(
    config: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    release: str,
    dsn: str | None = None,
    release_bundle: str | os.PathLike[str] | None = None,
    config_files: Sequence[str | os.PathLike[str]] = (),
    host_addresses: Sequence[str] | None = None,
) -> Archive:
    """Writes one orchestrator archive into ``out_dir`` (created when missing): ``config``
    (``cluster.conf``, parsed for the cluster's name) as ``config/cluster.conf``, the
    ``orchestrator`` database (and ``orchestrator_archive`` when it exists) as plain SQL with
    every table's row count from the same snapshot, the roles (``pg_dumpall --globals-only``,
    which needs a superuser), ``release`` and the ``release_bundle`` file, and
    ``config_files`` (files whatever their name; folders searched for ``*.tf``, ``*.tfvars``
    and ``cluster.conf``). ``host_addresses`` are recorded as where the orchestrator runs
    (this host's non-loopback addresses when ``None``). Any failure leaves no archive behind;
    an existing archive is never replaced."""

def verify(file: str | os.PathLike[str]) -> ArchiveReport:
    """Checks an archive without restoring anything: ``metadata.json`` first, every member's
    presence, path, type, size and SHA-256."""

def restore(
    file: str | os.PathLike[str],
    config_dir: str | os.PathLike[str],
    *,
    dsn: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    host_addresses: Sequence[str] | None = None,
) -> RestoreReport:
    """Plans the restore of an archive (the release gate first, then every member unpacked
    into a private staging folder and checked), then applies it: the roles, each database
    (created, filled, or with ``force`` replaced) loaded with ``psql``, the configuration
    files written into ``config_dir``; every table is counted and every file read back.
    With ``dry_run`` the plan is applied in dry-run mode and nothing changes. Conflicts
    (a database holding data, a file that differs) refuse the whole restore unless
    ``force``. ``host_addresses`` are this host's addresses, compared with the archived ones
    (a difference is a warning); found out when ``None``."""

def collect_installation_files(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> list[InstallationFile]:
    """The installation files of ``paths``, with sizes and SHA-256 digests, sorted by name: a
    folder is searched (hidden folders such as ``.git`` and ``.terraform`` aside) for
    ``cluster.conf``, ``*.tf``, ``*.tfvars`` and their ``.json`` forms; a file given by
    itself is taken whatever its name. Two files that would get the same name are refused."""

def snapshot_to_git(
    files_or_paths: InstallationFile
    | str
    | os.PathLike[str]
    | Sequence[InstallationFile | str | os.PathLike[str]],
    repo: str | os.PathLike[str],
    message: str = "continuum-backup: installation files",
) -> GitSnapshot:
    """Commits the files (as collected, or collected now from paths) to the git repository
    ``repo`` (created with ``git init`` when missing), each under its name. A commit is made
    only when something changed. Refuses, changing nothing, when the branch is behind its
    upstream (``BehindUpstreamError``) or a collected file changed since (``CorruptError``)."""
