"""continuum_backup.orchestrator: cluster.conf, over the Rust library continuum-orchestrator.

Errors: ``InvalidInputError`` when the text does not parse (the message starts with
``file:line:column``) or a value has the wrong shape (``components.a`` not a whole number,
``database_backups`` missing a key …); ``StoreError`` when the file cannot be read.
"""

import os
from typing import Any, final

__all__ = [
    "ClusterConf",
    "DatabaseBackups",
    "MachineGroup",
    "Placement",
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
