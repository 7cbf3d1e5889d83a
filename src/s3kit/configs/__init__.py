"""Versioned configuration of monitoring tools (Prometheus, Alertmanager, Grafana, Loki,
Jaeger) per environment, kept in a bucket: `ConfigStore`, and the seed API of one call per
job (`upload_apm_config`, ...).

Modules: `layout` (where the store keeps what, and its records; pure), `bundle` (local files:
read, validated, written), `secrets` (inline secrets found and masked; pure), `outcomes` (what
the operations return; the promotion and diff decisions, pure), `reader` (StoreReader: the
reads), `store` (ConfigStore: the reads and every write), `archive` (backup, restore), `batch`
(many pushes and pulls), `apm` (the seed API), `hardening` / `init` / `posture` (the bucket's
settings: asked, set, read back), `cache` and `watch` (the machines that read a store).
"""

from s3kit.configs.apm import (
    backup_apm_config,
    create_apm_bucket,
    deploy_apm_configs,
    download_apm_config,
    restore_apm_config,
    upload_apm_config,
    validate_apm_config,
)
from s3kit.configs.archive import BackupOutcome, RestoreItem, RestoreOutcome
from s3kit.configs.batch import BatchItem, BatchPlan, BatchResult, load_batch_plan
from s3kit.configs.bundle import (
    Bundle,
    ConfigInvalid,
    ReportLike,
    Source,
    Validate,
    ValidatorChoice,
    read_bundle,
    validate_config,
)
from s3kit.configs.layout import (
    TOOLS,
    FileEntry,
    Head,
    LogRecord,
    Release,
    StoreSettings,
    Tool,
    Validation,
    bundle_digest,
)
from s3kit.configs.outcomes import BundleDiff, FileDiff, HistoryEntry, MoveOutcome, PushOutcome
from s3kit.configs.secrets import SecretFinding, find_secrets, mask_secrets
from s3kit.configs.store import ConfigStore

__all__ = [
    "TOOLS",
    "BackupOutcome",
    "BatchItem",
    "BatchPlan",
    "BatchResult",
    "Bundle",
    "BundleDiff",
    "ConfigInvalid",
    "ConfigStore",
    "FileDiff",
    "FileEntry",
    "Head",
    "HistoryEntry",
    "LogRecord",
    "MoveOutcome",
    "PushOutcome",
    "Release",
    "ReportLike",
    "RestoreItem",
    "RestoreOutcome",
    "SecretFinding",
    "Source",
    "StoreSettings",
    "Tool",
    "Validate",
    "Validation",
    "ValidatorChoice",
    "backup_apm_config",
    "bundle_digest",
    "create_apm_bucket",
    "deploy_apm_configs",
    "download_apm_config",
    "find_secrets",
    "load_batch_plan",
    "mask_secrets",
    "read_bundle",
    "restore_apm_config",
    "upload_apm_config",
    "validate_apm_config",
    "validate_config",
]
