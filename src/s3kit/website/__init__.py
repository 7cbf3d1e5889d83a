"""Static websites: serve a site deployed to a bucket as S3 website hosting would
(`WebsiteServer`), for stores that have no website endpoints (SeaweedFS, moto)."""

from s3kit.website.serve import (
    DEFAULT_PORT,
    Decision,
    Plain,
    Redirect,
    Request,
    RoutingRule,
    Serve,
    Site,
    SiteObject,
    WebsiteServer,
    bucket_website,
    decide,
    site_key,
)

__all__ = [
    "DEFAULT_PORT",
    "Decision",
    "Plain",
    "Redirect",
    "Request",
    "RoutingRule",
    "Serve",
    "Site",
    "SiteObject",
    "WebsiteServer",
    "bucket_website",
    "decide",
    "site_key",
]
