"""continuum_backup.db: PostgreSQL backups and restores, over the Rust library
continuum-orchestrator.

``dsn`` is a ``postgresql://user@host:port/database`` URL (a password is better given in
``PGPASSWORD``); ``None`` takes the server from the environment, as ``psql`` would
(``DATABASE_URL``, then ``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``).
The store is a folder, ``file:///…`` or ``s3://bucket/prefix``; ``endpoint``, ``region``,
``path_style``, ``access_key_id``, ``secret_access_key`` and ``session_token`` are those of
``Store.open``.

``restore`` plans first and changes nothing when the plan is refused: with ``dry_run`` it
returns the plan (``RestorePlan``); otherwise it applies it, checks every table's row count
against the one recorded at backup time and returns a ``RestoreReport``. A target database
that holds data is replaced only with ``force``.

Errors: ``InvalidInputError`` for a bad URL or option, an empty or repeated database list, or
a set without the database asked for; ``NotFoundError`` for a set that does not exist;
``AlreadyExistsError`` when the target database holds data and ``force`` is not given;
``CorruptError`` when a restored table does not hold the rows recorded at backup time, or a
dump does not match its SHA-256; ``StoreError`` when the server, a PostgreSQL program
(``pg_dump``, ``pg_restore``, ``psql``) or the store fails. Messages never hold a password.
"""

from collections.abc import Sequence
from typing import Any, Literal, final, overload

from ._native import Manifest

__all__ = [
    "DatabaseInfo",
    "RestorePlan",
    "RestoreReport",
    "backup",
    "list_databases",
    "restore",
]

@final
class RestorePlan:
    """A restore worked out and checked, with nothing changed yet."""

    @property
    def set_id(self) -> str: ...
    @property
    def database(self) -> str:
        """The database as backed up."""

    @property
    def target_database(self) -> str:
        """The database restored into (``as_name``, or the original name)."""

    @property
    def action(self) -> str:
        """``create`` (it does not exist), ``fill`` (it exists and is empty) or ``replace``
        (it holds data and ``force`` was given: it is dropped and created anew)."""

    @property
    def artifact(self) -> str:
        """The dump restored (``<database>.dump.zst``)."""

    @property
    def artifact_size(self) -> int:
        """Its size as stored."""

    @property
    def server_version(self) -> str:
        """The server version it was dumped from."""

    @property
    def globals(self) -> bool:
        """Roles and tablespaces are restored first."""

    @property
    def expected_rows(self) -> dict[str, int]:
        """The rows each table (``schema.table``) must hold afterwards."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class RestoreReport:
    """What a restore did and found; every count agreed."""

    @property
    def set_id(self) -> str: ...
    @property
    def database(self) -> str:
        """The database as backed up."""

    @property
    def target_database(self) -> str:
        """The database restored into."""

    @property
    def action(self) -> str:
        """``create``, ``fill`` or ``replace``."""

    @property
    def globals_restored(self) -> bool: ...
    @property
    def tables(self) -> list[tuple[str, int | None, int | None]]:
        """``(table, expected, actual)`` of every table, by name: ``expected`` is the count
        recorded at backup time, ``actual`` the one found."""

    @property
    def total_rows(self) -> int:
        """Rows in all tables."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class DatabaseInfo:
    """A database of the server, as ``psql -l`` shows it."""

    @property
    def name(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def encoding(self) -> str:
        """``UTF8`` …"""

    @property
    def size(self) -> int | None:
        """Its size on disk in bytes; ``None`` when the user may not connect to it."""

    @property
    def is_template(self) -> bool: ...
    @property
    def allows_connections(self) -> bool: ...
    def to_dict(self) -> dict[str, Any]: ...

def backup(
    databases: Sequence[str],
    to: str,
    *,
    dsn: str | None = None,
    reason: str = "manual",
    with_globals: bool = True,
    cluster_name: str | None = None,
    endpoint: str | None = None,
    region: str | None = None,
    path_style: bool | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> Manifest:
    """Backs up the databases into one new backup set in the store ``to`` and commits it:
    ``<database>.dump.zst`` per database (``pg_dump -Fc`` through zstd, with every table's
    row count from the same snapshot) and, with ``with_globals``, ``globals.sql.zst`` (roles
    and tablespaces; needs a superuser). ``reason`` is daily, deploy, manual or migration.
    Any failure leaves no set behind."""

@overload
def restore(
    store_url: str,
    set_id: str,
    database: str,
    *,
    dsn: str | None = None,
    as_name: str | None = None,
    force: bool = False,
    with_globals: bool = False,
    dry_run: Literal[False] = False,
    endpoint: str | None = None,
    region: str | None = None,
    path_style: bool | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> RestoreReport: ...
@overload
def restore(
    store_url: str,
    set_id: str,
    database: str,
    *,
    dsn: str | None = None,
    as_name: str | None = None,
    force: bool = False,
    with_globals: bool = False,
    dry_run: Literal[True],
    endpoint: str | None = None,
    region: str | None = None,
    path_style: bool | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> RestorePlan: ...
@overload
def restore(
    store_url: str,
    set_id: str,
    database: str,
    *,
    dsn: str | None = None,
    as_name: str | None = None,
    force: bool = False,
    with_globals: bool = False,
    dry_run: bool = False,
    endpoint: str | None = None,
    region: str | None = None,
    path_style: bool | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> RestorePlan | RestoreReport: ...
def list_databases(dsn: str | None = None) -> list[DatabaseInfo]:
    """Every database of the server, by name."""
