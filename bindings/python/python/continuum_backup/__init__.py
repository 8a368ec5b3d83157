"""continuum_backup: backup sets in a folder or an S3 bucket, from Python.

A thin layer over the Rust library continuum-core::

    from continuum_backup import Store

    store = Store.open("/var/backups/continuum")
    manifest = store.create_set(["/etc/continuum/cluster.conf"], reason="manual")
    assert store.verify(manifest.set_id).ok

Policy documents (continuum-policy) are in the submodule ``continuum_backup.policy``; job
data and cntmp files (continuum-cntmp) in ``continuum_backup.cntmp``; ``cluster.conf``,
the orchestrator archive and the installation files (continuum-orchestrator) in
``continuum_backup.orchestrator`` and PostgreSQL backups in
``continuum_backup.db``.
"""

from ._errors import (
    AlreadyExistsError,
    BehindUpstreamError,
    CorruptError,
    Error,
    InvalidInputError,
    NotFoundError,
    PolicyError,
    ReleaseGateError,
    StoreError,
)
from ._native import (
    Artifact,
    ArtifactCheck,
    Fqn,
    LeftoverDecision,
    Manifest,
    PruneDecision,
    PruneReport,
    Store,
    VerifyReport,
)
from . import cntmp, db, orchestrator, policy

__all__ = [
    "AlreadyExistsError",
    "Artifact",
    "ArtifactCheck",
    "BehindUpstreamError",
    "CorruptError",
    "Error",
    "Fqn",
    "InvalidInputError",
    "LeftoverDecision",
    "Manifest",
    "NotFoundError",
    "PolicyError",
    "PruneDecision",
    "PruneReport",
    "ReleaseGateError",
    "Store",
    "StoreError",
    "VerifyReport",
]
