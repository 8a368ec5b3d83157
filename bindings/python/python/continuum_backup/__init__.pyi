from ._errors import AlreadyExistsError as AlreadyExistsError
from ._errors import BehindUpstreamError as BehindUpstreamError
from ._errors import CorruptError as CorruptError
from ._errors import DecryptError as DecryptError
from ._errors import Error as Error
from ._errors import IdentityRequiredError as IdentityRequiredError
from ._errors import InvalidInputError as InvalidInputError
from ._errors import NotFoundError as NotFoundError
from ._errors import PolicyError as PolicyError
from ._errors import ReleaseGateError as ReleaseGateError
from ._errors import StoreError as StoreError
from ._native import Artifact as Artifact
from ._native import ArtifactCheck as ArtifactCheck
from ._native import BackedUpArtifact as BackedUpArtifact
from ._native import BackupPlan as BackupPlan
from ._native import BackupReport as BackupReport
from ._native import Fqn as Fqn
from ._native import LeftoverDecision as LeftoverDecision
from ._native import Manifest as Manifest
from ._native import PlannedArtifact as PlannedArtifact
from ._native import PlannedComponent as PlannedComponent
from ._native import Progress as Progress
from ._native import PruneDecision as PruneDecision
from ._native import PruneReport as PruneReport
from ._native import RestoredItem as RestoredItem
from ._native import RestoreItem as RestoreItem
from ._native import RestorePlan as RestorePlan
from ._native import RestoreReport as RestoreReport
from ._native import Store as Store
from ._native import VerifyReport as VerifyReport
from ._native import generate_identity as generate_identity
from ._native import platform_backup as backup
from ._native import platform_plan as plan
from ._native import platform_restore as restore
from . import cntmp as cntmp
from . import db as db
from . import orchestrator as orchestrator
from . import policy as policy

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
