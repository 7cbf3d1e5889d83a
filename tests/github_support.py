"""What the GitHub tests share: the GitHub stand-in (tests/github_standin.py) as a fixture and the
skip where GitHub's OpenAPI description is not installed, a client of the stand-in, a fake
clock for rate-limit waits, and a prefix of its own for each test in one bucket per backend and
module.

A test module takes the fixtures by assignment, `standin = github_support.standin`: pytest finds
a fixture by the module's names either way, and a `from ... import standin` would read to the
linters as an unused import that every test's argument redefines.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from s3kit._session import Session
from s3kit._uri import S3Url
from s3kit.github import GitHubClient
from s3kit.service import S3Service
from s3kit.storage.base import ObjectInfo
from tests.conftest import Backend, unique_bucket_name
from tests.github_standin import OPENAPI_MISSING, GitHubStandIn, running_standin

# The mark of a module whose tests need the stand-in (`pytestmark = NEEDS_OPENAPI`).
NEEDS_OPENAPI = pytest.mark.skipif(OPENAPI_MISSING is not None, reason=OPENAPI_MISSING or "")


@pytest.fixture
def standin() -> Iterator[GitHubStandIn]:
    """A stand-in of its own per test; at teardown it fails the test with any answer or request
    that broke GitHub's description."""
    with running_standin() as running:
        yield running


class FakeTime:
    """A clock and a sleep for `GitHubClient(clock=..., sleep=...)`: a sleep is recorded and
    moves the clock on, and nothing waits."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_of(standin: GitHubStandIn, time: FakeTime | None = None, **options: Any) -> GitHubClient:
    """A client of `standin` with its token and nothing from the environment; on `time`'s clock
    when given."""
    if time is not None:
        options |= {"clock": time.clock, "sleep": time.sleep}
    return GitHubClient(token=standin.token, api_url=standin.api_url, env={}, **options)


def api_env(standin: GitHubStandIn) -> dict[str, str]:
    """The variables that point s3kit's GitHub calls at `standin`."""
    return {"GITHUB_TOKEN": standin.token, "GITHUB_API_URL": standin.api_url}


def module_bucket(
    backend: Backend, shared_buckets: dict[str, tuple[Session, str]], tag: str = "gh"
) -> tuple[Session, str]:
    """The module's one bucket on `backend`, made on first use (SeaweedFS takes most of a second
    to make one): each test works under a prefix of its own."""
    if backend.name not in shared_buckets:
        session = backend.session()
        name = unique_bucket_name(tag)
        S3Service(session).create_bucket(name)
        shared_buckets[backend.name] = (session, name)
    return shared_buckets[backend.name]


@dataclass
class Place:
    """A fresh prefix in the module's bucket on one backend."""

    backend: Backend
    session: Session
    bucket: str
    prefix: str  # ends in '/'

    @property
    def url(self) -> S3Url:
        return S3Url(self.bucket, self.prefix)

    def listed(self) -> list[str]:
        """The keys below the prefix, relative to it, sorted."""
        listed = self.session.storage(self.bucket).list(self.prefix)
        return sorted(e.key[len(self.prefix) :] for e in listed if isinstance(e, ObjectInfo))

    def get(self, key: str) -> bytes:
        return self.session.storage(self.bucket).get(self.prefix + key)

    def json(self, key: str) -> Any:
        return json.loads(self.get(key))


@pytest.fixture
def place(backend: Backend, shared_buckets: dict[str, tuple[Session, str]]) -> Place:
    session, name = module_bucket(backend, shared_buckets)
    return Place(backend, session, name, f"p-{uuid.uuid4().hex[:8]}/")


__all__ = [
    "NEEDS_OPENAPI",
    "FakeTime",
    "Place",
    "api_env",
    "client_of",
    "module_bucket",
    "place",
    "standin",
]
