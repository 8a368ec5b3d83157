"""continuum_backup.cntmp: job data and cntmp files, over the Rust library continuum-cntmp.

``cluster_dir`` is a cluster folder; its job data lives in ``<cluster_dir>/jobdata/``.
FQNs are strings (``package::/apcera/pkg/packages::tool``); objects are dicts in the
platform API's shape.

Errors: ``AlreadyExistsError`` for an object that exists (and an export onto an existing
file without ``force``); ``NotFoundError`` when nothing matches a name; ``CorruptError``
when a file's data does not match its SHA-256 or length, or an entry is refused;
``InvalidInputError`` for a bad FQN, kind, dependency, namespace or object, an ambiguous
name, a file that is not a cntmp (ZIP) file or has a bad manifest, a package whose resource
is missing; ``StoreError`` when the file system fails.
"""

import os
from collections.abc import Sequence
from typing import Any, final

__all__ = [
    "ExportReport",
    "ImportReport",
    "ImportedObject",
    "Inspection",
    "Object",
    "Package",
    "ResourceRef",
    "create_object",
    "export",
    "get_object",
    "import_files",
    "inspect",
    "list_objects",
    "package_from_files",
    "verify",
]

@final
class Package:
    """A package: its layers are resources, content-addressed by SHA-256."""

    @property
    def fqn(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def uuid(self) -> str | None: ...
    @property
    def layers(self) -> int:
        """How many resources (layers) it has."""

    @property
    def digests(self) -> list[str]:
        """Its resources' SHA-256 (``sha256:…``), in layer order."""

    @property
    def size(self) -> int:
        """The bytes of all its resources."""

    def to_dict(self) -> dict[str, Any]:
        """The package in the API's shape."""

@final
class Object:
    """An object of job data."""

    @property
    def kind(self) -> str:
        """``package``, ``job``, ``stagpipe``, ``service``, ``provider`` or ``binding``."""

    @property
    def fqn(self) -> str: ...
    @property
    def uuid(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]:
        """The object in the API's shape."""

@final
class ExportReport:
    """What ``export`` wrote."""

    @property
    def file(self) -> str: ...
    @property
    def objects(self) -> list[str]:
        """The FQNs written, sorted."""

    @property
    def resources(self) -> int:
        """Distinct resources written."""

    @property
    def resource_bytes(self) -> int: ...
    @property
    def notes(self) -> list[str]:
        """Remarks: unsatisfied dependencies, missing stager jobs."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class ImportReport:
    """What ``import_files`` did, or would do in a dry run."""

    @property
    def dry_run(self) -> bool: ...
    @property
    def objects(self) -> list[ImportedObject]:
        """One per object, sorted by FQN."""

    @property
    def resources_stored(self) -> int:
        """Resources newly stored, or that would be."""

    @property
    def bytes_checked(self) -> int: ...
    @property
    def notes(self) -> list[str]:
        """What legacy files lacked, and other remarks, each after its file's name."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class ImportedObject:
    """One object of an import."""

    @property
    def kind(self) -> str: ...
    @property
    def fqn(self) -> str:
        """Its FQN in the cluster."""

    @property
    def source_fqn(self) -> str:
        """Its FQN in the file (differs with ``override_namespace``)."""

    @property
    def file(self) -> str: ...
    @property
    def action(self) -> str:
        """``create``, ``unchanged`` or ``skipped, differs`` (it exists with other content,
        which is kept)."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class ResourceRef:
    """A resource as a cntmp file lists it."""

    @property
    def entry(self) -> str:
        """The ZIP entry (``PACKAGE_RESOURCE_0001.tar.gz``)."""

    @property
    def sha256(self) -> str: ...
    @property
    def length(self) -> int: ...
    @property
    def compression(self) -> str:
        """Sniffed from its first bytes: ``gzip``, ``bzip2``, ``zstd`` or ``none``."""

    def to_dict(self) -> dict[str, Any]: ...

@final
class Inspection:
    """What ``inspect`` found in a cntmp file."""

    @property
    def file(self) -> str: ...
    @property
    def legacy(self) -> bool:
        """True for a file without ``manifest.json`` (from the platform's own tool)."""

    @property
    def format_version(self) -> int | None:
        """The manifest's version; ``None`` for a legacy file."""

    @property
    def producer(self) -> str | None: ...
    @property
    def objects(self) -> list[tuple[str, str, list[ResourceRef]]]:
        """``(kind, fqn, resources)`` of every object."""

    @property
    def entries(self) -> list[tuple[str, int, str]]:
        """``(name, size, method)`` of every ZIP entry; method is ``stored`` or ``deflated``."""

    @property
    def notes(self) -> list[str]:
        """What a legacy file lacks."""

    def to_dict(self) -> dict[str, Any]: ...

def package_from_files(
    cluster_dir: str | os.PathLike[str],
    files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    name: str,
    namespace: str = "/apcera/pkg/packages",
    provides: Sequence[str] = (),
    depends: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Package:
    """Stores a new package ``package::<namespace>::<name>`` whose layers are the files, in
    order. ``provides`` and ``depends`` are ``TYPE.NAME`` (``runtime.go``; TYPE is os,
    package, file or runtime); ``env`` is the environment of processes that use it. Raises
    ``AlreadyExistsError`` when the package exists."""

def create_object(cluster_dir: str | os.PathLike[str], obj: dict[str, Any] | str) -> Object:
    """Stores a new object given in the API's shape (a dict or its JSON text); its kind comes
    from its ``fqn``. A package's resources must be in the cluster already."""

def list_objects(cluster_dir: str | os.PathLike[str], kind: str | None = None) -> list[str]:
    """The FQNs of every object (of ``kind``), sorted."""

def get_object(cluster_dir: str | os.PathLike[str], fqn: str) -> dict[str, Any] | None:
    """The object in the API's shape, or ``None`` when there is none."""

def export(
    cluster_dir: str | os.PathLike[str],
    out_file: str | os.PathLike[str],
    *,
    packages: Sequence[str] = (),
    jobs: Sequence[str] = (),
    pipelines: Sequence[str] = (),
    all: bool = False,
    with_dependencies: bool = False,
    force: bool = False,
) -> ExportReport:
    """Writes the selected objects and their resources into one cntmp file, atomically.
    Packages are FQNs, names or ``*`` patterns (``go-*``); jobs and pipelines are FQNs or
    names; a pipeline brings its stager jobs. ``all`` selects everything;
    ``with_dependencies`` adds, transitively, the packages that provide what the selected
    packages depend on. Without ``force``, an existing file is refused
    (``AlreadyExistsError``). Selecting nothing raises ``InvalidInputError``."""

def import_files(
    cluster_dir: str | os.PathLike[str],
    files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    skip_existing: bool = False,
    override_namespace: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Imports cntmp files, all or nothing: every digest is checked before anything is
    stored. An existing object raises ``AlreadyExistsError`` unless ``skip_existing``.
    ``override_namespace`` moves every object there (references between them follow).
    With ``dry_run``, checks everything and stores nothing."""

def inspect(file: str | os.PathLike[str]) -> Inspection:
    """A file's objects, entries and notes; checks its directory and manifest but not its
    resources (``verify`` does)."""

def verify(file: str | os.PathLike[str]) -> int:
    """Reads every resource and checks its SHA-256 and length; returns the bytes checked.
    Raises ``CorruptError`` naming the entry on damage."""
