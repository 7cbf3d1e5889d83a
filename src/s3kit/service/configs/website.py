"""Static website hosting: an index (and error) document, or a redirect of every request, and
the endpoint AWS serves it at.

Only AWS has fixed website endpoints: elsewhere `website_url` says nothing rather than guess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from s3kit._aio import async_twin
from s3kit.service.configs.checks import need, unwrap
from s3kit.service.configs.specs import WEBSITE, ConfigDocuments, Document

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import WebsiteConfigurationTypeDef


def build_website(
    *,
    index: str | None = None,
    error: str | None = None,
    redirect_host: str | None = None,
    redirect_protocol: Literal["http", "https"] | None = None,
) -> Document:
    """Static website hosting: an index (and error) document, or a redirect of everything."""
    config: Document = {}
    if redirect_host:
        config["RedirectAllRequestsTo"] = {"HostName": redirect_host}
        if redirect_protocol:
            config["RedirectAllRequestsTo"]["Protocol"] = redirect_protocol
    if index:
        config["IndexDocument"] = {"Suffix": index}
    if error:
        config["ErrorDocument"] = {"Key": error}
    return validate_website(config)


def validate_website(document: Any) -> Document:
    config = unwrap(document, "WebsiteConfiguration", "a website configuration")
    redirect = config.get("RedirectAllRequestsTo")
    if redirect:
        need(
            set(config) == {"RedirectAllRequestsTo"},
            "a website that redirects all requests can have nothing else (no index or error"
            " document, no routing rules)",
        )
        need(
            isinstance(redirect, dict) and bool(redirect.get("HostName")),
            "RedirectAllRequestsTo needs a HostName",
        )
        return config
    suffix = (config.get("IndexDocument") or {}).get("Suffix")
    need(
        bool(suffix),
        "a website needs an index document (e.g. index.html) or a redirect host",
    )
    need("/" not in str(suffix), f"the index document '{suffix}' must not contain '/'")
    return config


def website_endpoint(bucket: str, region: str) -> str:
    """The AWS website endpoint of a bucket (the dash form every region answers)."""
    return f"http://{bucket}.s3-website-{region}.amazonaws.com"


class WebsiteMixin(ConfigDocuments):
    def get_website(self, bucket: str) -> WebsiteConfigurationTypeDef | None:
        return self._get_document(WEBSITE, bucket)

    def set_website(self, bucket: str, config: Any) -> None:
        self._put_document(WEBSITE, bucket, validate_website(config))

    def delete_website(self, bucket: str) -> None:
        self._delete_document(WEBSITE, bucket)

    def website_url(self, bucket: str) -> str | None:
        """The website endpoint on AWS; None on another endpoint, where it depends on how that
        server serves websites (if at all)."""
        if self.session.endpoint_url is not None:
            return None
        location = self.call("get_bucket_location", bucket=bucket, Bucket=bucket)
        region = location.get("LocationConstraint") or "us-east-1"
        return website_endpoint(bucket, "eu-west-1" if region == "EU" else str(region))

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    get_website_async = async_twin(get_website)
    set_website_async = async_twin(set_website)
    delete_website_async = async_twin(delete_website)
    website_url_async = async_twin(website_url)
