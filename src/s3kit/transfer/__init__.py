"""Transfers: parallel multipart copies between local files, standard streams and S3.

The code lives in the modules of this package (`manager`: TransferManager; `plan`: what cp
means; `items`: the records of a run; `context`: settings; `filters`, `paths`, `parts`: the pure
rules); this is the face the rest of s3kit and scripts import from.
"""

from s3kit.transfer.context import TransferConfig, WriteOptions
from s3kit.transfer.filters import Filters
from s3kit.transfer.items import (
    Action,
    EventCallback,
    EventKind,
    ItemResult,
    Outcome,
    Partial,
    TransferEvent,
    TransferItem,
    TransferSummary,
    guarded,
)
from s3kit.transfer.manager import TransferManager

__all__ = [
    "Action",
    "EventCallback",
    "EventKind",
    "Filters",
    "ItemResult",
    "Outcome",
    "Partial",
    "TransferConfig",
    "TransferEvent",
    "TransferItem",
    "TransferManager",
    "TransferSummary",
    "WriteOptions",
    "guarded",
]
