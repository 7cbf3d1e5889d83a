"""Deploy a static site to a bucket: rules, change detection, safe order, history, rollback.

Layers, as elsewhere in s3kit: `rules` (what headers each file gets, from s3kit-deploy.yaml or
the `deploy:` section of s3kit.yaml), `content_types` (s3kit's own table), `compress`
(deterministic gzip) are pure; `manifest` (what a deploy recorded) and `plan` (the pure decision:
local files and the live manifest in, phased uploads and deletions out) too. Acting through the
storage layer: `run` (the entry points: deploy, rollback), `apply` (lock, write in safe order,
swing `current.json`, release), `records` (manifests, history, the lock), `copies` (the blobs a
rollback restores), `after` (website, CloudFront) and `report` (the outcome, events, audit).
"""

from s3kit.deploy.rules import DeployConfig
from s3kit.deploy.rules_file import load_deploy_config
from s3kit.deploy.run import (
    DeployOutcome,
    deploy,
    deploy_async,
    history,
    history_async,
    rollback,
    rollback_async,
    unlock,
    unlock_async,
)

__all__ = [
    "DeployConfig",
    "DeployOutcome",
    "deploy",
    "deploy_async",
    "history",
    "history_async",
    "load_deploy_config",
    "rollback",
    "rollback_async",
    "unlock",
    "unlock_async",
]
