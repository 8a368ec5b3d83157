"""continuum_backup.orchestrator: cluster.conf, over the Rust library continuum-orchestrator.

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
"""

from ._native import OrchestratorClusterConf as ClusterConf
from ._native import OrchestratorDatabaseBackups as DatabaseBackups
from ._native import OrchestratorMachineGroup as MachineGroup
from ._native import OrchestratorPlacement as Placement

__all__ = [
    "ClusterConf",
    "DatabaseBackups",
    "MachineGroup",
    "Placement",
]
