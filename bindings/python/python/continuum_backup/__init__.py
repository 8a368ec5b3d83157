"""continuum_backup: backup sets in a folder or an S3 bucket, from Python.

A thin layer over the Rust library continuum-core::

    from continuum_backup import Store

    store = Store.open("/var/backups/continuum")
    manifest = store.create_set(["/etc/continuum/cluster.conf"], reason="manual")
    assert store.verify(manifest.set_id).ok

The whole platform in one set, as the command line's ``plan``, ``backup`` and ``restore``
(continuum-orchestrator)::

    import continuum_backup as cb

    plan = cb.plan("/etc/continuum/cluster.conf")
    print(plan.to_table())
    report = cb.backup("/etc/continuum/cluster.conf", "/etc/continuum", "/var/backups/platform",
                       progress=lambda p: print(p.artifacts_done, p.artifacts_total))
    cb.restore("/var/backups/platform", report.set_id, "/srv/new-cluster", dry_run=True)

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
    DecryptError,
    Error,
    IdentityRequiredError,
    InvalidInputError,
    NotFoundError,
    PolicyError,
    ReleaseGateError,
    StoreError,
)
from ._native import (
    Artifact,
    ArtifactCheck,
    BackedUpArtifact,
    BackupPlan,
    BackupReport,
    Fqn,
    LeftoverDecision,
    Manifest,
    PlannedArtifact,
    PlannedComponent,
    Progress,
    PruneDecision,
    PruneReport,
    RestoredItem,
    RestoreItem,
    RestorePlan,
    RestoreReport,
    Store,
    VerifyReport,
    generate_identity,
)
from ._native import platform_backup as backup
from ._native import platform_plan as plan
from ._native import platform_restore as restore
from . import cntmp, db, orchestrator, policy

__all__ = [
    "AlreadyExistsError",
    "Artifact",
    "ArtifactCheck",
    "BackedUpArtifact",
    "BackupPlan",
    "BackupReport",
    "BehindUpstreamError",
    "CorruptError",
    "DecryptError",
    "Error",
    "Fqn",
    "IdentityRequiredError",
    "InvalidInputError",
    "LeftoverDecision",
    "Manifest",
    "NotFoundError",
    "PlannedArtifact",
    "PlannedComponent",
    "PolicyError",
    "Progress",
    "PruneDecision",
    "PruneReport",
    "ReleaseGateError",
    "RestoreItem",
    "RestorePlan",
    "RestoreReport",
    "RestoredItem",
    "Store",
    "StoreError",
    "VerifyReport",
    "backup",
    "generate_identity",
    "plan",
    "restore",
]
