from ._errors import AlreadyExistsError as AlreadyExistsError
from ._errors import BehindUpstreamError as BehindUpstreamError
from ._errors import CorruptError as CorruptError
from ._errors import Error as Error
from ._errors import InvalidInputError as InvalidInputError
from ._errors import NotFoundError as NotFoundError
from ._errors import PolicyError as PolicyError
from ._errors import ReleaseGateError as ReleaseGateError
from ._errors import StoreError as StoreError
from ._native import Artifact as Artifact
from ._native import ArtifactCheck as ArtifactCheck
from ._native import Fqn as Fqn
from ._native import LeftoverDecision as LeftoverDecision
from ._native import Manifest as Manifest
from ._native import PruneDecision as PruneDecision
from ._native import PruneReport as PruneReport
from ._native import Store as Store
from ._native import VerifyReport as VerifyReport
from . import cntmp as cntmp
from . import db as db
from . import orchestrator as orchestrator
from . import policy as policy

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
