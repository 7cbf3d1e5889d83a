"""`s3kit bucket <configuration> get|set|delete`: every bucket configuration document.

Each `set` takes either `--file FILE` (YAML or JSON, the full document in the shape `get`
prints, so `get > f; edit f; set --file f` round-trips) or flags that build the common
single-rule case. Commands only parse, call one `S3Service` method and print; every check
of a document lives in `s3kit.service.configs`.
"""

from __future__ import annotations

import typer

from s3kit.cli.bucket_config.acceleration import acceleration
from s3kit.cli.bucket_config.cors import cors
from s3kit.cli.bucket_config.encryption import encryption
from s3kit.cli.bucket_config.id_configs import analytics, inventory, metrics, tiering
from s3kit.cli.bucket_config.lifecycle import lifecycle
from s3kit.cli.bucket_config.notifications import notifications
from s3kit.cli.bucket_config.object_lock import object_lock
from s3kit.cli.bucket_config.replication import replication
from s3kit.cli.bucket_config.versioning import versioning
from s3kit.cli.bucket_config.website import website

GROUPS: dict[str, typer.Typer] = {
    "versioning": versioning,
    "lifecycle": lifecycle,
    "website": website,
    "cors": cors,
    "encryption": encryption,
    "replication": replication,
    "notifications": notifications,
    "acceleration": acceleration,
    "object-lock": object_lock,
    "inventory": inventory,
    "analytics": analytics,
    "metrics": metrics,
    "intelligent-tiering": tiering,
}


def register(app: typer.Typer) -> None:
    """Add the configuration sub-groups (versioning, lifecycle, ...) to `s3kit bucket`."""
    for name, group in GROUPS.items():
        app.add_typer(group, name=name)
