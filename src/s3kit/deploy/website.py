"""The bucket's website configuration a deploy sets (`deploy --website`): the index and error
documents of the deploy rules, or for a single-page app (`spa`) the index document as the
error document too.

S3 keeps one website configuration per bucket, so only a deploy to the bucket's root may set
it; that, and an error document the site lacks, is refused before anything is written
(`check_website`). Setting it keeps the routing rules the bucket already has (they are the
bucket owner's, not the deploy's) and is read back: a store that accepts the PUT and keeps
something else is a failure, not a success. Redirects need nothing here: they are objects
with `x-amz-website-redirect-location`, which website hosting answers with a 301.

The SPA fallback has a limit S3 cannot lift: website hosting answers a path with no object
with the error document *and status 404*. A client-side router still shows the page, but
crawlers and monitors see 404; CloudFront's custom error responses (404 → /index.html, 200)
turn it into a 200.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from s3kit._uri import S3Url
from s3kit.deploy.rules import DeployConfig
from s3kit.errors import S3KitError, UsageError

if TYPE_CHECKING:
    from s3kit._session import Session

SPA_LIMIT = (
    "S3 answers paths with no file with the index document and status 404; for a 200, give"
    " the CloudFront distribution a custom error response (404 → /{index}, 200)"
)


@dataclass(frozen=True, slots=True)
class WebsiteResult:
    bucket: str
    index_document: str
    error_document: str | None
    spa: bool
    routing_rules: int = 0  # kept from the configuration the bucket had

    def document(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "index_document": self.index_document,
            "error_document": self.error_document,
            "spa": self.spa,
            "routing_rules_kept": self.routing_rules,
            "read_back": True,
        }

    def line(self) -> str:
        error = f", error document {self.error_document}" if self.error_document else ""
        spa = " (single-page app)" if self.spa else ""
        kept = f", {self.routing_rules} routing rules kept" if self.routing_rules else ""
        return (
            f"website of s3://{self.bucket}: index document {self.index_document}{error}{spa}"
            f"{kept} — set and read back"
        )


def error_document_of(config: DeployConfig, *, spa: bool) -> str | None:
    return config.index_document if spa else config.error_document


def check_website(
    destination: S3Url, config: DeployConfig, site: Collection[str], *, spa: bool
) -> None:
    """Refuse, before anything is written, a website configuration this deploy cannot set.
    `site` holds the site's paths (files and redirects)."""
    prefix = destination.key.strip("/")
    if prefix:
        raise UsageError(
            f"S3 keeps one website configuration per bucket: --website needs a deploy to the"
            f" bucket's root (s3://{destination.bucket}), not to {destination} — nothing was"
            " written"
        )
    if spa and config.error_document not in (None, config.index_document):
        raise UsageError(
            f"--spa makes {config.index_document} the error document, and the rules name"
            f" error_document: {config.error_document} — keep one; nothing was written"
        )
    error = error_document_of(config, spa=spa)
    if error is not None and error not in site:
        # S3 would answer every missing path with its own error page instead.
        raise UsageError(
            f"the website's error document {error} is not a file of the site — add it, or"
            " change error_document in the rules; nothing was written"
        )


def set_website(session: Session, bucket: str, config: DeployConfig, *, spa: bool) -> WebsiteResult:
    """Set the bucket's index and error documents (keeping its routing rules), and read the
    configuration back."""
    from s3kit.service import S3Service

    service = S3Service(session)
    index, error = config.index_document, error_document_of(config, spa=spa)
    before: dict[str, Any] = dict(service.get_website(bucket) or {})
    if before.get("RedirectAllRequestsTo"):
        host = before["RedirectAllRequestsTo"].get("HostName")
        raise S3KitError(
            f"s3://{bucket} redirects every request to {host}: setting index and error"
            " documents would end that — remove it first (`s3kit bucket website delete"
            f" s3://{bucket}`) if that is intended"
        )
    wanted: dict[str, Any] = {"IndexDocument": {"Suffix": index}}
    if error is not None:
        wanted["ErrorDocument"] = {"Key": error}
    rules = list(before.get("RoutingRules") or [])
    if rules:
        wanted["RoutingRules"] = rules
    service.set_website(bucket, wanted)
    after: dict[str, Any] = dict(service.get_website(bucket) or {})
    got = (
        (after.get("IndexDocument") or {}).get("Suffix"),
        (after.get("ErrorDocument") or {}).get("Key"),
    )
    if got != (index, error):
        raise S3KitError(
            f"s3://{bucket} accepted the website configuration but reads back index"
            f" {got[0]!r}, error {got[1]!r} instead of {index!r}, {error!r}"
        )
    return WebsiteResult(bucket, index, error, spa, len(rules))


class WebsiteFailed(S3KitError):
    """The deploy is live (or already was); the bucket's website configuration was not set."""

    def __init__(self, deploy_id: str | None, error: S3KitError) -> None:
        which = f"deploy {deploy_id} is live" if deploy_id else "the site is live"
        super().__init__(f"{which}, but the website configuration was not set: {error.message}")
        self.context_of(error)


__all__ = [
    "SPA_LIMIT",
    "WebsiteFailed",
    "WebsiteResult",
    "check_website",
    "error_document_of",
    "set_website",
]
