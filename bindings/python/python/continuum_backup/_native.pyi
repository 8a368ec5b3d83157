"""The native part of continuum_backup, written in Rust over continuum-core,
continuum-policy, continuum-cntmp and continuum-orchestrator.

Every function raises the exceptions of ``continuum_backup._errors``:
``InvalidInputError`` (a ``ValueError``) for refused input, ``NotFoundError`` (a
``LookupError``), ``AlreadyExistsError``, ``CorruptError``, ``StoreError`` (an ``OSError``)
and, for a policy document with errors, ``PolicyError`` (a ``ValueError``); the
orchestrator archive functions also raise ``ReleaseGateError`` (an ``InvalidInputError``) and
``BehindUpstreamError``, and reading an encrypted set ``DecryptError`` (a ``ValueError``) or
its subclass ``IdentityRequiredError``.
Times are ISO 8601 strings in UTC (``2026-11-25T12:00:00.000000+00:00``), which
``datetime.fromisoformat`` reads.
"""

import os
from collections.abc import Callable, Mapping, Sequence
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
    "BackedUpArtifact",
    "BackupPlan",
    "BackupReport",
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
    "PlannedArtifact",
    "PlannedComponent",
    "Policy",
    "Progress",
    "PruneDecision",
    "PruneReport",
    "RestoreItem",
    "RestorePlan",
    "RestoreReport",
    "RestoredItem",
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
    "generate_identity",
    "orchestrator_backup",
    "orchestrator_collect_installation_files",
    "orchestrator_restore",
    "orchestrator_snapshot_to_git",
    "orchestrator_verify",
    "platform_backup",
    "platform_plan",
    "platform_restore",
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

# continuum-orchestrator's whole platform: re-exported by continuum_backup itself
# (platform_plan, platform_backup and platform_restore as plan, backup and restore).

@final
class BackupPlan:
    """The backup plan of a cluster, computed from ``cluster.conf`` alone: every component,
    classified as backed up, optional or not backed up, with the reason."""

    @property
    def cluster_name(self) -> str | None:
        """``chef.continuum.cluster_name``."""

    @property
    def components(self) -> list[PlannedComponent]:
        """Every component: the known ones first, in the operations guide's order, then the
        others by name."""

    @property
    def placements(self) -> list[OrchestratorPlacement]:
        """What each database host keeps of the database backups (only the asked host's,
        when ``host`` was given)."""

    @property
    def machine_groups(self) -> list[OrchestratorMachineGroup]:
        """cluster.conf's machine groups, which the graph draws."""

    @property
    def encrypted(self) -> bool:
        """The plan is for an encrypted set (cluster.conf's secrets are then kept)."""

    @property
    def secrets(self) -> str:
        """What happens to cluster.conf's secrets, in words (their places, never their
        values)."""

    @property
    def warnings(self) -> list[str]:
        """Things to know before trusting the plan."""

    def component(self, name: str) -> PlannedComponent | None:
        """The component named ``name``, or ``None``."""

    def to_table(self) -> str:
        """The plan as the command line prints it: a table of the components, the database
        backups per host, the secrets and the warnings."""

    def to_dot(self) -> str:
        """The plan as a Graphviz graph (DOT text)."""

    def write_graph(self, path: str | os.PathLike[str], force: bool = False) -> None:
        """Writes the graph to ``path``: DOT text for ``.dot`` and ``.gv``, an image drawn by
        Graphviz's ``dot`` for ``.svg`` and ``.png``. The file appears whole or not at all;
        an existing one is replaced only with ``force`` (else ``AlreadyExistsError``)."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class PlannedComponent:
    """One component of the cluster and what the plan does with its data."""

    @property
    def component(self) -> str:
        """``component-database``, ``policy``, ``redis-server`` …"""

    @property
    def kind(self) -> str:
        """The kind of data: ``cluster``, ``policy``, ``job`` or ``log``."""

    @property
    def coverage(self) -> str:
        """``backed_up``, ``optional`` or ``not_backed_up``."""

    @property
    def reason(self) -> str:
        """Why, in words."""

    @property
    def hosts(self) -> list[str]:
        """The hosts of the machine groups whose ``suitable_tags`` name it."""

    @property
    def destinations(self) -> list[str]:
        """Where its backups go: ``backup set``, ``local <folder> on <host>``,
        ``s3://… (<region>)``."""

    @property
    def artifacts(self) -> list[PlannedArtifact]:
        """What the backup set holds for it (empty unless backed up)."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class PlannedArtifact:
    """One thing the backup set will hold."""

    @property
    def source(self) -> str:
        """``database``, ``installation_files``, ``policy_documents`` or ``job_data``."""

    @property
    def database(self) -> str | None:
        """The database dumped, for a ``database`` source."""

    @property
    def description(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Progress:
    """Where a backup or a restore stands, as the progress callback receives it."""

    @property
    def operation(self) -> str:
        """``backup`` or ``restore``."""

    @property
    def artifacts_done(self) -> int: ...
    @property
    def artifacts_total(self) -> int: ...
    @property
    def bytes_done(self) -> int:
        """Bytes read so far (from the sources for a backup, from the store for a restore)."""

    @property
    def bytes_total(self) -> int:
        """An estimate of the bytes in all (database sizes as the server gives them)."""

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""

    @property
    def bytes_per_second(self) -> float: ...
    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate; ``None`` until there is a rate."""

    @property
    def current(self) -> list[str]:
        """The artifacts in progress, by name."""

    @property
    def finished(self) -> bool:
        """This is the last report: every artifact is done."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class BackupReport:
    """What ``backup`` did: the set it committed."""

    @property
    def set_id(self) -> str: ...
    @property
    def store(self) -> str:
        """The store's URL, without credentials."""

    @property
    def plan(self) -> BackupPlan:
        """The plan it followed (what was backed up, what not and why)."""

    @property
    def artifacts(self) -> list[BackedUpArtifact]:
        """Every artifact, in name order."""

    @property
    def bytes_stored(self) -> int: ...
    @property
    def bytes_read(self) -> int: ...
    @property
    def parallel(self) -> int:
        """Artifacts produced at once."""

    @property
    def duration(self) -> float:
        """Seconds from the start to the commit."""

    @property
    def redacted_secrets(self) -> list[str]:
        """Keys of cluster.conf whose values were replaced by a placeholder (none in an
        encrypted set)."""

    @property
    def warnings(self) -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class BackedUpArtifact:
    """One artifact a backup wrote."""

    @property
    def name(self) -> str:
        """Its name in the set: ``db/<database>.dump.zst``, ``db/globals.sql.zst``,
        ``install/<file>``, ``policy/<name>.pol``, ``job/all.cntmp``."""

    @property
    def component(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def size(self) -> int:
        """Bytes stored."""

    @property
    def source_bytes(self) -> int:
        """Bytes read from the source."""

    @property
    def duration(self) -> float:
        """Seconds it took."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class RestorePlan:
    """A platform restore worked out, with nothing changed: what ``restore(…, dry_run=True)``
    returns."""

    @property
    def set_id(self) -> str: ...
    @property
    def cluster_name(self) -> str | None: ...
    @property
    def items(self) -> list[RestoreItem]:
        """One item per artifact restored, in name order."""

    @property
    def conflicts(self) -> list[RestoreItem]:
        """The items whose action is ``conflict``: a restore would refuse them without
        ``force``."""

    @property
    def notes(self) -> list[str]:
        """Artifacts left out, and other remarks."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class RestoreItem:
    """One artifact of a restore plan and what would happen to it."""

    @property
    def kind(self) -> str:
        """``databases``, ``installation-files``, ``policy`` or ``job-data`` (as ``only``
        takes them)."""

    @property
    def artifact(self) -> str: ...
    @property
    def destination(self) -> str:
        """A file, a database on a server, the job-data registry."""

    @property
    def action(self) -> str:
        """``create``, ``fill`` (an empty database), ``skip`` (identical), ``replace``
        (with ``force``) or ``conflict``."""

    @property
    def size(self) -> int: ...
    @property
    def note(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class RestoreReport:
    """What ``restore`` did and found: every item verified."""

    @property
    def set_id(self) -> str: ...
    @property
    def items(self) -> list[RestoredItem]: ...
    @property
    def bytes_read(self) -> int: ...
    @property
    def duration(self) -> float:
        """Seconds it took."""

    @property
    def notes(self) -> list[str]:
        """What to do next, and other remarks."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class RestoredItem:
    """What one restored artifact came to."""

    @property
    def kind(self) -> str: ...
    @property
    def artifact(self) -> str: ...
    @property
    def destination(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def verified(self) -> str:
        """How it was verified, in words."""

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

# The whole platform (continuum_backup.plan, backup, restore, generate_identity).

def platform_plan(
    config: str | os.PathLike[str],
    *,
    host: str | None = None,
    with_job_data: bool = False,
    encrypted: bool = False,
    databases: Mapping[str, str] | None = None,
) -> BackupPlan:
    """The backup plan of the cluster ``config`` (its ``cluster.conf``) describes, as
    ``continuum-backup plan`` prints it. ``host`` narrows the placements to one host;
    ``with_job_data`` and ``encrypted`` plan a backup with those options; ``databases`` maps a
    database component (``component-database``, ``auditlog-database``, ``monitoring``,
    ``orchestrator``) to its database where it is not the default. Raises
    ``InvalidInputError`` for a host in no machine group or a bad override."""
def platform_backup(
    config: str | os.PathLike[str],
    cluster: str | os.PathLike[str],
    store: str | Store,
    *,
    dsn: str | None = None,
    reason: str = "manual",
    with_job_data: bool = False,
    databases: Mapping[str, str] | None = None,
    with_globals: bool = True,
    parallel: int = 4,
    encrypt_to: str | os.PathLike[str] | Sequence[str] | None = None,
    progress: Callable[[Progress], object] | None = None,
    endpoint: str | None = None,
    region: str | None = None,
    path_style: bool | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> BackupReport:
    """Backs up the whole platform into one new set of ``store`` (a URL, opened with the S3
    options, or an open ``Store``), as ``continuum-backup backup`` does: the databases of
    the plan (``dsn``, or the ``PG*`` environment), the roles (``with_globals``), the
    installation files of ``cluster`` (cluster.conf's secrets redacted unless encrypted), the
    policy documents and, with ``with_job_data``, all job data. ``encrypt_to`` encrypts the
    set to age recipients: a list of ``age1…`` keys, or the path of a recipients file.

    ``progress`` is called with a ``Progress`` from the library's worker threads, one call
    at a time, at every artifact's start and end and at most every 100 ms in between; the
    last call has ``finished`` true. An exception it raises (or Ctrl-C) stops the backup:
    what was written is removed, no set is committed, and that exception is raised. Any
    other failure also leaves no set; its message names the artifact."""
@overload
def platform_restore(
    store: str | Store,
    set_id: str,
    cluster: str | os.PathLike[str],
    *,
    dsn: str | None = None,
    only: Sequence[str] | None = None,
    databases: Mapping[str, str] | None = None,
    force: bool = False,
    with_globals: bool = False,
    identity: str | os.PathLike[str] | None = None,
    dry_run: Literal[False] = False,
    progress: Callable[[Progress], object] | None = None,
    endpoint: str | None = None,
    region: str | None = None,
    path_style: bool | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> RestoreReport: ...
@overload
def platform_restore(
    store: str | Store,
    set_id: str,
    cluster: str | os.PathLike[str],
    *,
    dsn: str | None = None,
    only: Sequence[str] | None = None,
    databases: Mapping[str, str] | None = None,
    force: bool = False,
    with_globals: bool = False,
    identity: str | os.PathLike[str] | None = None,
    dry_run: Literal[True],
    progress: Callable[[Progress], object] | None = None,
    endpoint: str | None = None,
    region: str | None = None,
    path_style: bool | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> RestorePlan: ...
@overload
def platform_restore(
    store: str | Store,
    set_id: str,
    cluster: str | os.PathLike[str],
    *,
    dsn: str | None = None,
    only: Sequence[str] | None = None,
    databases: Mapping[str, str] | None = None,
    force: bool = False,
    with_globals: bool = False,
    identity: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    progress: Callable[[Progress], object] | None = None,
    endpoint: str | None = None,
    region: str | None = None,
    path_style: bool | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> RestorePlan | RestoreReport:
    """Restores the platform set ``set_id`` of ``store`` into the cluster folder ``cluster``
    and the databases of ``dsn`` (or the ``PG*`` environment; needed only when databases
    are restored), as ``continuum-backup restore`` does. ``only`` restores some kinds:
    ``databases``, ``installation-files``, ``policy``, ``job-data``; ``databases`` maps a
    database of the set to the one restored into; ``identity`` is the age identity file that
    opens an encrypted set (without it: ``IdentityRequiredError``; a key that does not
    match: ``DecryptError``).

    With ``dry_run`` nothing changes and the ``RestorePlan`` is returned. Otherwise a plan
    with conflicts (a file with other content, a database holding data) changes nothing and
    raises ``AlreadyExistsError`` unless ``force``; each item is then restored and verified.
    ``progress`` is called as by ``backup`` (never on a dry run); an exception it raises (or Ctrl-C) stops the
    restore before its next item (a file is written whole or not at all, a database being
    created is dropped; the items before stay restored) and is raised."""

def generate_identity() -> tuple[str, str]:
    """A new age X25519 key pair ``(secret key, public key)``: ``AGE-SECRET-KEY-1…`` and
    ``age1…``. For tests and demonstrations; real keys are better made with ``age-keygen``,
    kept offline, and only their public key given to the backup host."""
