"""continuum_backup.orchestrator: cluster.conf, the orchestrator archive and the installation
files, over the Rust library continuum-orchestrator.

``ClusterConf`` parses a platform ``cluster.conf`` (Dconf) into typed views: the cluster's name
and domain, its machine groups, its component counts, the S3 bucket of the database backups,
and the placement rule (what a host keeps of those backups). Secrets never reach Python: the
bucket's keys stay in Rust (``has_credentials`` says whether they are set), and ``repr`` and
``to_dict()`` leave them out::

    from continuum_backup.orchestrator import ClusterConf

    conf = ClusterConf.load("/etc/continuum/cluster.conf")
    print(conf.cluster_name, [g.name for g in conf.machine_groups])
    p = conf.placement("10.0.0.11")
    print(p.databases, p.keep_local, p.upload_s3, p.reason)

``backup`` writes one orchestrator archive (``metadata.json`` first, the ``orchestrator``
databases as plain SQL, the roles, the release, ``cluster.conf`` and the Terraform files);
``verify`` checks every member against the metadata; ``restore`` plans and applies a
restore (``dry_run=True`` changes nothing), refusing archives made before platform release
2.4.0 (``ReleaseGateError``) before anything changes. ``collect_installation_files`` and
``snapshot_to_git`` keep the installation files under version control::

    from continuum_backup import orchestrator

    archive = orchestrator.backup("/etc/continuum/cluster.conf", "/var/backups/orchestrator",
                                  release="2.6.1", config_files=["/etc/continuum/terraform"])
    assert orchestrator.verify(archive.path).restorable
    plan = orchestrator.restore(archive.path, "/etc/continuum", dry_run=True)
    for item in plan.items:
        print(item.kind, item.name, item.action, item.detail)
"""

from ._native import OrchestratorArchive as Archive
from ._native import OrchestratorArchiveReport as ArchiveReport
from ._native import OrchestratorClusterConf as ClusterConf
from ._native import OrchestratorDatabaseBackups as DatabaseBackups
from ._native import OrchestratorGitSnapshot as GitSnapshot
from ._native import OrchestratorInstallationFile as InstallationFile
from ._native import OrchestratorMachineGroup as MachineGroup
from ._native import OrchestratorPlacement as Placement
from ._native import OrchestratorRestoredDatabase as RestoredDatabase
from ._native import OrchestratorRestoredFile as RestoredFile
from ._native import OrchestratorRestoreItem as RestoreItem
from ._native import OrchestratorRestoreReport as RestoreReport
from ._native import orchestrator_backup as backup
from ._native import orchestrator_collect_installation_files as collect_installation_files
from ._native import orchestrator_restore as restore
from ._native import orchestrator_snapshot_to_git as snapshot_to_git
from ._native import orchestrator_verify as verify

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
