"""The native part of continuum_backup, written in Rust over continuum-core,
continuum-policy, continuum-cntmp and continuum-orchestrator.

Every function raises the exceptions of ``continuum_backup._errors``:
``InvalidInputError`` (a ``ValueError``) for refused input, ``NotFoundError`` (a
``LookupError``), ``AlreadyExistsError``, ``CorruptError``, ``StoreError`` (an ``OSError``)
and, for a policy document with errors, ``PolicyError`` (a ``ValueError``); the
orchestrator archive functions also raise ``ReleaseGateError`` (an ``InvalidInputError``) and
``BehindUpstreamError``.
Times are ISO 8601 strings in UTC (``2026-11-25T12:00:00.000000+00:00``), which
``datetime.fromisoformat`` reads.
"""

import os
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, final, overload

from .cntmp import ExportReport as CntmpExportReport
from .cntmp import ImportedObject as CntmpImportedObject
from .cntmp import ImportReport as CntmpImportReport
from .cntmp import Inspection as CntmpInspection
from .cntmp import Object as CntmpObject
from .cntmp import Package as CntmpPackage
from .cntmp import ResourceRef as CntmpResourceRef
from .db import DatabaseInfo as DbDatabaseInfo
from .db import RestorePlan as DbRestorePlan
from .db import RestoreReport as DbRestoreReport
from .orchestrator import Archive as OrchestratorArchive
from .orchestrator import ArchiveReport as OrchestratorArchiveReport
from .orchestrator import ClusterConf as OrchestratorClusterConf
from .orchestrator import DatabaseBackups as OrchestratorDatabaseBackups
from .orchestrator import GitSnapshot as OrchestratorGitSnapshot
from .orchestrator import InstallationFile as OrchestratorInstallationFile
from .orchestrator import MachineGroup as OrchestratorMachineGroup
from .orchestrator import Placement as OrchestratorPlacement
from .orchestrator import RestoredDatabase as OrchestratorRestoredDatabase
from .orchestrator import RestoredFile as OrchestratorRestoredFile
from .orchestrator import RestoreItem as OrchestratorRestoreItem
from .orchestrator import RestoreReport as OrchestratorRestoreReport

__all__ = [
    "Artifact",
    "ArtifactCheck",
    "CntmpExportReport",
    "CntmpImportReport",
    "CntmpImportedObject",
    "CntmpInspection",
    "CntmpObject",
    "CntmpPackage",
    "CntmpResourceRef",
    "Condition",
    "Consequent",
    "DbDatabaseInfo",
    "DbRestorePlan",
    "DbRestoreReport",
    "Diagnostic",
    "Document",
    "Fqn",
    "ImportReport",
    "ImportedDocument",
    "LeftoverDecision",
    "Manifest",
    "OrchestratorArchive",
    "OrchestratorArchiveReport",
    "OrchestratorClusterConf",
    "OrchestratorDatabaseBackups",
    "OrchestratorGitSnapshot",
    "OrchestratorInstallationFile",
    "OrchestratorMachineGroup",
    "OrchestratorPlacement",
    "OrchestratorRestoreItem",
    "OrchestratorRestoreReport",
    "OrchestratorRestoredDatabase",
    "OrchestratorRestoredFile",
    "Policy",
    "PruneDecision",
    "PruneReport",
    "Rule",
    "Store",
    "Value",
    "VerifyReport",
    "cntmp_create_object",
    "cntmp_export",
    "cntmp_get_object",
    "cntmp_import_files",
    "cntmp_inspect",
    "cntmp_list_objects",
    "cntmp_package_from_files",
    "cntmp_verify",
    "db_backup",
    "db_list_databases",
    "db_restore",
    "orchestrator_backup",
    "orchestrator_collect_installation_files",
    "orchestrator_restore",
    "orchestrator_snapshot_to_git",
    "orchestrator_verify",
    "policy_api_docs_from_json",
    "policy_api_docs_to_json",
    "policy_check",
    "policy_export",
    "policy_format",
    "policy_import_files",
    "policy_parse",
]

@final
class Fqn:
    """A fully qualified name: ``type::/namespace::local_name``, ``type::/namespace`` (a
    realm) or the untyped ``/namespace::local_name``. Immutable, hashable, compared by value."""

    @staticmethod
    def parse(text: str, default_type: str | None = None) -> Fqn:
        """Parses an FQN. With ``default_type``, an omitted type becomes that type and a type
        that is written must equal it. Raises ``InvalidInputError`` naming the column."""

    @property
    def resource_type(self) -> str | None:
        """The type (``job``, ``package`` …), or ``None`` when not written."""

    @property
    def namespace(self) -> str:
        """The namespace (``/apcera/pkg``; ``/`` for the root)."""

    @property
    def local_name(self) -> str | None:
        """The local name, or ``None`` for a realm."""

    @property
    def is_realm(self) -> bool:
        """True when the FQN names a realm (it has no local name)."""

    def with_namespace(self, namespace: str) -> Fqn:
        """The same type and local name in another namespace."""

    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Store:
    """A backup store: a folder (a path or ``file:///…``) or an S3 bucket
    (``s3://bucket/prefix``). Its repr and its errors never show a credential."""

    @staticmethod
    def open(
        url: str,
        *,
        endpoint: str | None = None,
        region: str | None = None,
        path_style: bool | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
    ) -> Store:
        """Opens the store ``url`` names. The keyword arguments apply to S3 stores;
        credentials left unset come from the ``AWS_*`` variables."""

    @property
    def url(self) -> str:
        """The store's URL, without credentials."""

    def create_set(
        self,
        files: Sequence[str | os.PathLike[str]],
        *,
        kind: str = "cluster",
        component: str = "files",
        reason: str = "manual",
        cluster_name: str | None = None,
    ) -> Manifest:
        """Commits ``files`` as one new backup set, one artifact per file named after it.

        ``kind`` is ``cluster``, ``policy``, ``job`` or ``log``; ``reason`` is ``daily``,
        ``deploy``, ``manual`` or ``migration``."""

    def sets(self) -> list[Manifest]:
        """The committed sets, newest first."""

    def verify(self, set_id: str) -> VerifyReport:
        """Reads every artifact of a set and checks its size and SHA-256."""

    def prune(
        self,
        *,
        keep_last: int = 0,
        keep_daily: int = 0,
        keep_weekly: int = 0,
        keep_monthly: int = 0,
        min_keep: int = 0,
        dry_run: bool = False,
        incomplete_grace_seconds: int = 3600,
    ) -> PruneReport:
        """Removes the sets no retention rule keeps, and incomplete sets older than the grace
        period. At least one rule must be given. With ``dry_run``, removes nothing."""

@final
class Manifest:
    """The manifest of a committed backup set."""

    @property
    def set_id(self) -> str: ...
    @property
    def created_at(self) -> str: ...
    @property
    def producer(self) -> str: ...
    @property
    def cluster_name(self) -> str | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def artifacts(self) -> list[Artifact]: ...
    def to_json(self) -> str:
        """The manifest as the JSON document stored with the set."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class Artifact:
    """One artifact of a backup set."""

    @property
    def kind(self) -> str: ...
    @property
    def component(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str:
        """Its object path inside the set (``artifacts/<name>``)."""

    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str:
        """``sha256:`` and 64 lowercase hex digits."""

    @property
    def compression(self) -> str: ...
    @property
    def created_at(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class VerifyReport:
    """The outcome of ``Store.verify``."""

    @property
    def set_id(self) -> str: ...
    @property
    def ok(self) -> bool:
        """True when every artifact checked out."""

    @property
    def bytes_checked(self) -> int: ...
    @property
    def artifacts(self) -> list[ArtifactCheck]: ...
    @property
    def unexpected_objects(self) -> list[str]:
        """Objects in the set that its manifest does not name."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class ArtifactCheck:
    """The check of one artifact."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def status(self) -> str:
        """``ok``, ``missing``, ``size_mismatch``, ``digest_mismatch`` or ``read_error``."""

    @property
    def expected_size(self) -> int | None:
        """For ``size_mismatch``: the recorded size."""

    @property
    def actual_size(self) -> int | None:
        """For ``size_mismatch``: the size found."""

    @property
    def expected_sha256(self) -> str | None:
        """For ``digest_mismatch``: the recorded digest."""

    @property
    def actual_sha256(self) -> str | None:
        """For ``digest_mismatch``: the digest found."""

    @property
    def message(self) -> str | None:
        """For ``read_error``: why the artifact could not be read."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class PruneReport:
    """The outcome of ``Store.prune``."""

    @property
    def dry_run(self) -> bool: ...
    @property
    def decisions(self) -> list[PruneDecision]:
        """One per committed set, newest first."""

    @property
    def leftovers(self) -> list[LeftoverDecision]:
        """One per incomplete or unreadable set."""

    @property
    def removed_objects(self) -> int: ...
    @property
    def removed_bytes(self) -> int:
        """Bytes removed, or that would be in a dry run."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class PruneDecision:
    """What prune decided for one committed set."""

    @property
    def set_id(self) -> str: ...
    @property
    def created_at(self) -> str: ...
    @property
    def keep(self) -> bool: ...
    @property
    def reasons(self) -> list[str]:
        """Every rule that keeps the set, or why none does."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class LeftoverDecision:
    """What prune decided for an incomplete or unreadable set."""

    @property
    def set_id(self) -> str: ...
    @property
    def objects(self) -> int: ...
    @property
    def remove(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...

# continuum-policy: re-exported by continuum_backup.policy under short names.

@final
class Diagnostic:
    """One finding about a policy document. ``str()`` renders it as
    ``file:line:column: severity: message``, the source line and a caret under the place."""

    @property
    def severity(self) -> str:
        """``error`` (the document is refused) or ``warning``."""

    @property
    def message(self) -> str: ...
    @property
    def file(self) -> str:
        """The file or document name given to the function."""

    @property
    def line(self) -> int:
        """1-based."""

    @property
    def column(self) -> int:
        """1-based, in characters."""

    @property
    def source_line(self) -> str: ...
    @property
    def width(self) -> int:
        """How many characters the caret underlines (at least 1)."""

    @property
    def help(self) -> str | None:
        """A hint, when there is a likely fix."""

    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class Document:
    """A policy document as data: comments and layout are gone, so two texts that mean the
    same have equal documents. Immutable, hashable, compared by value."""

    @property
    def name(self) -> str | None: ...
    @property
    def description(self) -> str | None:
        """The ``<continuum-policy description="…">`` header, when present."""

    @property
    def policies(self) -> list[Policy]: ...
    def to_dict(self) -> dict[str, Any]:
        """The model's JSON shape: ``{"name"?, "description"?, "policies": [...]}``."""

    def to_json(self) -> str:
        """``to_dict()`` as JSON text."""

    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Policy:
    """``on realm { rules }``."""

    @property
    def realm(self) -> str:
        """The realm in its canonical form (``job::/sandbox/[name]``, no trailing ``/``)."""

    @property
    def rules(self) -> list[Rule]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Rule:
    """``if (condition) { consequents }``, or ``{ consequents }`` without a condition."""

    @property
    def condition(self) -> Condition | None: ...
    @property
    def consequents(self) -> list[Consequent]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Condition:
    """A condition. ``kind`` is ``clause`` (``issuer->claim comparator value``; ``issuer``,
    ``claim``, ``comparator`` and ``value`` are set), or ``all`` / ``any`` / ``not`` of the
    conditions in ``of`` (one for ``not``). Groups are gone and nested ``&&`` / ``||`` are
    flattened."""

    @property
    def kind(self) -> str: ...
    @property
    def issuer(self) -> str | None:
        """``auth_server@apcera.me`` in ``auth_server@apcera.me->name``."""

    @property
    def claim(self) -> str | None: ...
    @property
    def comparator(self) -> str | None:
        """``==``, ``!=``, ``beginsWith`` …"""

    @property
    def value(self) -> Value | None: ...
    @property
    def of(self) -> list[Condition]: ...
    def to_dict(self) -> dict[str, Any]:
        """The model's JSON shape: ``{"op": "clause", …}``, ``{"op": "all", "of": [...]}``,
        ``{"op": "not", "of": {...}}``."""

    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Consequent:
    """A claim type and its values: ``permit read, update``."""

    @property
    def claim(self) -> str: ...
    @property
    def values(self) -> list[Value]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Value:
    """A value. ``type`` is ``string`` (quoted; ``value`` is its content), ``word`` (bare),
    ``number`` (``value`` holds the digits, ``unit`` the unit when written: ``2GB``) or
    ``template`` (``[name]``; ``value`` is the name). ``str()`` writes it as a document does."""

    @property
    def type(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def unit(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]:
        """The model's JSON shape: ``{"type": "word", "value": "read"}``,
        ``{"type": "number", "value": {"number": "2", "unit": "GB"}}``."""

    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ImportReport:
    """What ``import_files`` did, or would do in a dry run."""

    @property
    def dry_run(self) -> bool: ...
    @property
    def documents(self) -> list[ImportedDocument]:
        """One per document, by name."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class ImportedDocument:
    """One document of an import."""

    @property
    def name(self) -> str:
        """The document name: its file's stem."""

    @property
    def file(self) -> str: ...
    @property
    def outcome(self) -> str:
        """``created``, ``updated`` or ``unchanged``."""

    @property
    def warnings(self) -> list[Diagnostic]: ...
    def to_dict(self) -> dict[str, Any]: ...

def policy_parse(text: str, name: str | None = None) -> Document: ...
def policy_check(text: str, name: str | None = None) -> list[Diagnostic]: ...
def policy_format(text: str, name: str | None = None) -> str: ...
def policy_export(
    cluster_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    name: str | None = None,
    force: bool = False,
) -> list[str]: ...
def policy_import_files(
    cluster_dir: str | os.PathLike[str],
    patterns: str | Sequence[str],
    *,
    dry_run: bool = False,
) -> ImportReport: ...
def policy_api_docs_to_json(docs: Sequence[tuple[str, str]]) -> str: ...
def policy_api_docs_from_json(text: str) -> list[tuple[str, str]]: ...

# continuum-cntmp: re-exported by continuum_backup.cntmp under short names. The classes are
# defined in cntmp.pyi; here they are known under Cntmp-prefixed names.

def cntmp_package_from_files(
    cluster_dir: str | os.PathLike[str],
    files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    name: str,
    namespace: str = "/apcera/pkg/packages",
    provides: Sequence[str] = (),
    depends: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> CntmpPackage: ...
def cntmp_create_object(
    cluster_dir: str | os.PathLike[str], obj: dict[str, Any] | str
) -> CntmpObject: ...
def cntmp_list_objects(cluster_dir: str | os.PathLike[str], kind: str | None = None) -> list[str]: ...
def cntmp_get_object(cluster_dir: str | os.PathLike[str], fqn: str) -> dict[str, Any] | None: ...
def cntmp_export(
    cluster_dir: str | os.PathLike[str],
    out_file: str | os.PathLike[str],
    *,
    packages: Sequence[str] = (),
    jobs: Sequence[str] = (),
    pipelines: Sequence[str] = (),
    all: bool = False,
    with_dependencies: bool = False,
    force: bool = False,
) -> CntmpExportReport: ...
def cntmp_import_files(
    cluster_dir: str | os.PathLike[str],
    files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    skip_existing: bool = False,
    override_namespace: str | None = None,
    dry_run: bool = False,
) -> CntmpImportReport: ...
def cntmp_inspect(file: str | os.PathLike[str]) -> CntmpInspection: ...
def cntmp_verify(file: str | os.PathLike[str]) -> int: ...

# continuum-orchestrator: re-exported by continuum_backup.orchestrator and continuum_backup.db
# under short names. The classes are defined in orchestrator.pyi and db.pyi; here they are
# known under Orchestrator- and Db-prefixed names.

def db_backup(
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
) -> Manifest: ...
@overload
def db_restore(
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
) -> DbRestoreReport: ...
@overload
def db_restore(
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
) -> DbRestorePlan: ...
@overload
def db_restore(
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
) -> DbRestorePlan | DbRestoreReport: ...
def db_list_databases(dsn: str | None = None) -> list[DbDatabaseInfo]: ...
def orchestrator_backup(
    config: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    release: str,
    dsn: str | None = None,
    release_bundle: str | os.PathLike[str] | None = None,
    config_files: Sequence[str | os.PathLike[str]] = (),
    host_addresses: Sequence[str] | None = None,
) -> OrchestratorArchive: ...
def orchestrator_verify(file: str | os.PathLike[str]) -> OrchestratorArchiveReport: ...
def orchestrator_restore(
    file: str | os.PathLike[str],
    config_dir: str | os.PathLike[str],
    *,
    dsn: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    host_addresses: Sequence[str] | None = None,
) -> OrchestratorRestoreReport: ...
def orchestrator_collect_installation_files(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> list[OrchestratorInstallationFile]: ...
def orchestrator_snapshot_to_git(
    files_or_paths: OrchestratorInstallationFile
    | str
    | os.PathLike[str]
    | Sequence[OrchestratorInstallationFile | str | os.PathLike[str]],
    repo: str | os.PathLike[str],
    message: str = "continuum-backup: installation files",
) -> OrchestratorGitSnapshot: ...
