"""A GitHub REST API stand-in on loopback, held to GitHub's own OpenAPI description.

`GitHubStandIn` serves the endpoints s3kit's GitHub client uses (repository, commits, tarballs,
releases and assets, Actions artifacts, issue comments, deployments and their statuses, pull
requests) from in-memory state a test sets up (`add_repo`, then `StandInRepo.add_*`), on a free
127.0.0.1 port. A second listener on another port plays the hosts GitHub redirects downloads to
(codeload, the release-asset and artifact storage): it serves through signed one-off links and
records whether an Authorization header reached it (`object_requests`) — and refuses one, as
S3 does a presigned URL that also carries a header, so a client that leaks its token there
fails.

Every answer it sends is checked against the response schema GitHub's OpenAPI description
(npm @octokit/openapi, installed by tests/servers/install-openapi.sh) gives that operation and
status, and every request against the operation's parameters and body; the description's
`nullable` (OpenAPI 3.0) becomes JSON Schema's null type, and an object's undeclared keys are
refused too (GitHub's schemas leave objects open; the stand-in must not invent a field a client
could come to rely on). A violation is answered 501 at once and kept in `violations`; `check()`
(the fixture calls it at teardown) fails the test with them. So the stand-in cannot drift from
GitHub: when it would, the tests say so.

Faults are scripted per operation (`fail("repos/get", Fault.retry_after(3))`): rate limits
with retry-after, 429, a primary limit spent with its reset time, a secondary limit, any error.

The description (13 MB of JSON) is parsed once per test session (`openapi()` is cached).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

OPENAPI_VERSION = "23.0.2"
OPENAPI_PATH = (
    Path(__file__).resolve().parents[1]
    / ".venv/npm/node_modules/@octokit/openapi/generated/api.github.com.json"
)
# Decided before any test runs: the tests that need the description skip with this reason.
OPENAPI_MISSING = (
    None
    if OPENAPI_PATH.is_file()
    else f"GitHub's OpenAPI description is not installed ({OPENAPI_PATH.name}: run"
    " `bash tests/servers/install-openapi.sh`, which `make test` does)"
)

API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})  # what GitHub accepts today
_SPEC_URI = "urn:github-openapi"
_DOCS = "https://docs.github.com/rest"
_MISSING = object()


# -- the description -----------------------------------------------------------------------------


class OpenAPI:
    """GitHub's OpenAPI description as JSON Schema validators, one per response and request."""

    def __init__(self, document: dict[str, Any]) -> None:
        from jsonschema import Draft4Validator, FormatChecker
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4

        _to_json_schema(document)
        self.document = document
        self._registry: Registry[Any] = Registry().with_resource(
            _SPEC_URI, Resource.from_contents(document, default_specification=DRAFT4)
        )
        self._validator_class = Draft4Validator
        self._formats = FormatChecker()
        self._validators: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.operations: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    self.operations[operation["operationId"]] = (method.upper(), path, operation)

    def _resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = self._at(node["$ref"].removeprefix("#"))
        return node

    def _errors(self, pointer: str, instance: Any) -> list[str]:
        with self._lock:
            validator = self._validators.get(pointer)
            if validator is None:
                validator = self._validator_class(
                    {"$ref": f"{_SPEC_URI}#{pointer}"},
                    registry=self._registry,
                    format_checker=self._formats,
                )
                self._validators[pointer] = validator
            found = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        problems = [
            f"{'/'.join(map(str, error.absolute_path)) or '(document)'}: {error.message[:300]}"
            for error in found[:10]
        ]
        if not problems:
            problems = self._undeclared([self._at(pointer)], instance, "")
        return problems[:10]

    def _at(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.removeprefix("/").split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            node = node[int(key)] if isinstance(node, list) else node[key]
        return node

    def _leaves(self, schemas: list[Any], depth: int = 0) -> list[dict[str, Any]]:
        """`schemas` with every $ref followed and allOf / anyOf / oneOf spread out."""
        leaves: list[dict[str, Any]] = []
        for schema in schemas:
            schema = self._resolve(schema)
            if not isinstance(schema, dict):
                continue
            combined = [*schema.get("allOf", []), *schema.get("anyOf", []),
                        *schema.get("oneOf", [])]  # fmt: skip
            if combined and depth < 20:
                leaves += self._leaves(combined, depth + 1)
            leaves.append(schema)
        return leaves

    def _undeclared(self, schemas: list[Any], instance: Any, where: str) -> list[str]:
        """The keys of `instance` that no schema of `schemas` (nor any they combine) declares,
        where none leaves the object open. JSON Schema cannot say this of combined schemas
        (draft 4 has no unevaluatedProperties), so it is walked here: a key counts as declared
        when any alternative declares it — lenient across branches, strict about inventions."""
        leaves = self._leaves(schemas)
        problems: list[str] = []
        if isinstance(instance, dict):
            declared: dict[str, list[Any]] = {}
            extra: list[Any] = []
            is_open = False
            for leaf in leaves:
                for name, schema in (leaf.get("properties") or {}).items():
                    declared.setdefault(name, []).append(schema)
                more = leaf.get("additionalProperties")
                if isinstance(more, dict):
                    extra.append(more)
                elif more is True or (
                    "properties" not in leaf and leaf.get("type") in (None, "object")
                    and not any(k in leaf for k in ("allOf", "anyOf", "oneOf", "$ref"))
                    and more is None
                ):  # fmt: skip
                    is_open = True
            for key, value in instance.items():
                inner = f"{where}/{key}"
                if key in declared:
                    problems += self._undeclared(declared[key], value, inner)
                elif extra:
                    problems += self._undeclared(extra, value, inner)
                elif not is_open:
                    problems.append(f"{inner.lstrip('/')}: a key the description does not declare")
        elif isinstance(instance, list):
            items = [leaf["items"] for leaf in leaves if isinstance(leaf.get("items"), dict)]
            for index, value in enumerate(instance):
                problems += self._undeclared(items, value, f"{where}/{index}") if items else []
        return problems

    def check_response(
        self, operation_id: str, status: int, media_type: str | None, body: Any
    ) -> list[str]:
        """What is wrong with answering `operation_id` with `status` and `body` (a JSON value;
        None: no body) of `media_type`; [] when nothing is."""
        method, path, operation = self.operations[operation_id]
        where = f"{operation_id} {status}"
        responses = operation["responses"]
        key = str(status) if str(status) in responses else "default"
        if key not in responses:
            if status < 400:
                return [f"{where}: the description documents no {status} answer"]
            # An error GitHub gives any operation (401, 429, ...): its error document.
            if body is None:
                return []
            return [f"{where}: {e}" for e in self._errors("/components/schemas/basic-error", body)]
        content = self._resolve(responses[key]).get("content") or {}
        if body is None:
            return [] if not content or status >= 300 else [f"{where}: a body is documented"]
        if media_type is None or media_type not in content:
            return [f"{where}: {media_type} is not a documented answer ({sorted(content)})"]
        pointer = "/".join(
            ["", "paths", _escape(path), method.lower(), "responses", key, "content",
             _escape(media_type), "schema"]
        )  # fmt: skip
        if "$ref" in responses[key]:  # the answer is a shared component (components/responses)
            pointer = (
                responses[key]["$ref"].removeprefix("#") + f"/content/{_escape(media_type)}/schema"
            )
        return [f"{where}: {e}" for e in self._errors(pointer, body)]

    def check_error(self, body: Any) -> list[str]:
        """What is wrong with `body` as GitHub's error document (`basic-error`)."""
        return [
            f"error document: {e}" for e in self._errors("/components/schemas/basic-error", body)
        ]

    def check_request(
        self,
        operation_id: str,
        path_params: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: Any,
    ) -> list[str]:
        """What is wrong with a request to `operation_id`; [] when nothing is."""
        method, path, operation = self.operations[operation_id]
        problems: list[str] = []
        # (in, name) -> (the parameter, the JSON pointer of its schema)
        declared: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        for index, entry in enumerate(operation.get("parameters", [])):
            parameter = self._resolve(entry)
            pointer = (
                entry["$ref"].removeprefix("#")
                if "$ref" in entry
                else f"/paths/{_escape(path)}/{method.lower()}/parameters/{index}"
            )
            declared[(parameter["in"], parameter["name"])] = (parameter, pointer + "/schema")
        given = (("path", {k: [v] for k, v in path_params.items()}), ("query", query))
        for place, values in given:
            for name, texts in values.items():
                if (place, name) not in declared:
                    problems.append(f"{operation_id}: undeclared {place} parameter {name!r}")
                    continue
                parameter, pointer = declared[(place, name)]
                kind = self._resolve(parameter.get("schema", {})).get("type")
                for text in texts:
                    problems += [
                        f"{operation_id}: {place} parameter {name}={text!r}: {e}"
                        for e in self._errors(pointer, _coerce(text, kind))
                    ]
        for (place, name), (parameter, _pointer) in declared.items():
            if place == "query" and parameter.get("required") and name not in query:
                problems.append(f"{operation_id}: required query parameter {name!r} missing")
        request_body = operation.get("requestBody")
        if request_body is None:
            if body is not _MISSING:
                problems.append(f"{operation_id}: takes no request body")
        elif body is _MISSING:
            if request_body.get("required"):
                problems.append(f"{operation_id}: the request body is missing")
        else:
            pointer = "/".join(
                ["", "paths", _escape(path), method.lower(), "requestBody", "content",
                 "application~1json", "schema"]
            )  # fmt: skip
            problems += [f"{operation_id} request: {e}" for e in self._errors(pointer, body)]
        return problems


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _coerce(text: str, kind: Any) -> Any:
    if kind == "integer":
        with contextlib.suppress(ValueError):
            return int(text)
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def _to_json_schema(node: Any) -> None:
    """Rewrite the description's schemas in place as JSON Schema (draft 4, which OpenAPI 3.0's
    dialect extends): `nullable: true` becomes "or null"."""
    if isinstance(node, list):
        for item in node:
            _to_json_schema(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            for schema in value.values():
                _to_json_schema(schema)
        elif key not in ("example", "examples", "default", "enum"):
            _to_json_schema(value)
    if node.get("nullable") is True:
        inner = {k: v for k, v in node.items() if k != "nullable"}
        node.clear()
        node["anyOf"] = [{"type": "null"}, inner]


@functools.cache
def openapi() -> OpenAPI:
    """The description, parsed once per test session (about 0.3 s and 100 MB)."""
    if OPENAPI_MISSING:
        raise RuntimeError(OPENAPI_MISSING)
    with OPENAPI_PATH.open("rb") as handle:
        return OpenAPI(json.load(handle))


# -- scripted faults ----------------------------------------------------------------------------

_SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    " If you reach out to GitHub Support for help, please include the request ID"
)


@dataclass(frozen=True)
class Fault:
    """One scripted error answer."""

    status: int
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def retry_after(cls, seconds: int, *, status: int = 403) -> Fault:
        return cls(status, _SECONDARY_MESSAGE, {"retry-after": str(seconds)})

    @classmethod
    def too_many_requests(cls) -> Fault:
        return cls(429, _SECONDARY_MESSAGE)

    @classmethod
    def secondary(cls, *, status: int = 403) -> Fault:
        return cls(status, _SECONDARY_MESSAGE)

    @classmethod
    def primary(cls, reset: int) -> Fault:
        """The hourly limit spent: 403, remaining 0, `reset` (epoch seconds)."""
        return cls(
            403,
            "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help,"
            " please include the request ID",
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        )


# -- state a test sets up -----------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class StandInAsset:
    id: int
    name: str
    data: bytes
    content_type: str = "application/octet-stream"
    state: Literal["uploaded", "open"] = "uploaded"
    label: str | None = None
    digest: str | None = None
    direct: bool = False  # the API streams it itself (200) instead of redirecting (302)
    created_at: str = field(default_factory=_now)


@dataclass
class StandInRelease:
    id: int
    tag_name: str
    name: str | None
    draft: bool
    prerelease: bool
    target_commitish: str
    body: str | None
    assets: list[StandInAsset] = field(default_factory=list)
    created_at: str = field(default_factory=_now)


@dataclass
class StandInArtifact:
    id: int
    run_id: int
    name: str
    data: bytes
    expired: bool
    digest: str | None
    head_sha: str
    created_at: str = field(default_factory=_now)


@dataclass
class StandInComment:
    id: int
    issue: int
    body: str
    user: str
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)


@dataclass
class StandInStatus:
    id: int
    state: str
    description: str
    environment: str
    environment_url: str
    log_url: str
    target_url: str
    created_at: str = field(default_factory=_now)


@dataclass
class StandInDeployment:
    id: int
    sha: str
    ref: str
    task: str
    environment: str
    description: str | None
    transient_environment: bool
    production_environment: bool
    payload: Any
    creator: str
    request: dict[str, Any]  # the body the client sent, for tests to look at
    statuses: list[StandInStatus] = field(default_factory=list)
    created_at: str = field(default_factory=_now)


@dataclass
class StandInPull:
    number: int
    title: str
    state: Literal["open", "closed"]
    head_ref: str
    head_sha: str
    base_ref: str
    user: str
    draft: bool = False
    merged: bool = False
    body: str | None = None
    created_at: str = field(default_factory=_now)


@dataclass
class StandInCommit:
    sha: str
    message: str
    parents: list[str]
    tarball: bytes
    date: str = field(default_factory=_now)


@dataclass
class StandInRepo:
    standin: GitHubStandIn
    owner: str
    name: str
    id: int
    private: bool
    default_branch: str
    description: str | None = None
    commits: dict[str, StandInCommit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # "heads/main", "tags/v1" -> sha
    releases: list[StandInRelease] = field(default_factory=list)
    artifacts: list[StandInArtifact] = field(default_factory=list)
    comments: list[StandInComment] = field(default_factory=list)
    deployments: list[StandInDeployment] = field(default_factory=list)
    pulls: list[StandInPull] = field(default_factory=list)
    issues: set[int] = field(default_factory=set)

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.name}"

    def add_commit(
        self,
        message: str = "a commit",
        *,
        branch: str | None = None,
        tags: tuple[str, ...] = (),
        tarball: bytes | None = None,
    ) -> str:
        """A commit on `branch` (the default branch unless given); returns its SHA."""
        branch = branch or self.default_branch
        parent = self.refs.get(f"heads/{branch}")
        sha = hashlib.sha1(f"{self.slug}:{message}:{len(self.commits)}".encode()).hexdigest()
        data = tarball if tarball is not None else f"tarball of {sha}".encode()
        self.commits[sha] = StandInCommit(sha, message, [parent] if parent else [], data)
        self.refs[f"heads/{branch}"] = sha
        for tag in tags:
            self.refs[f"tags/{tag}"] = sha
        return sha

    def resolve(self, ref: str) -> str | None:
        ref = ref.removeprefix("refs/")
        for candidate in (ref, f"heads/{ref}", f"tags/{ref}"):
            if candidate in self.refs:
                return self.refs[candidate]
        if len(ref) >= 7 and re.fullmatch(r"[0-9a-f]+", ref):
            found = [sha for sha in self.commits if sha.startswith(ref)]
            if len(found) == 1:
                return found[0]
        return None

    def add_release(
        self,
        tag: str,
        *,
        name: str | None = None,
        draft: bool = False,
        prerelease: bool = False,
        assets: Mapping[str, bytes] | None = None,
    ) -> StandInRelease:
        with self.standin.lock:
            release = StandInRelease(
                self.standin.next_id(), tag, name if name is not None else tag, draft,
                prerelease, self.default_branch, f"Release {tag}",
            )  # fmt: skip
            self.releases.append(release)
        for asset_name, data in (assets or {}).items():
            self.add_asset(release, asset_name, data)
        return release

    def add_asset(
        self,
        release: StandInRelease,
        name: str,
        data: bytes,
        *,
        state: Literal["uploaded", "open"] = "uploaded",
        digest: str | object | None = _MISSING,
        direct: bool = False,
        content_type: str = "application/octet-stream",
    ) -> StandInAsset:
        """`digest` defaults to the true sha256 of `data`; None for an asset GitHub has none
        for (those uploaded before it computed them), or any string to script a wrong one."""
        with self.standin.lock:
            asset = StandInAsset(
                self.standin.next_id(), name, data, content_type, state,
                digest=_sha_digest(data) if digest is _MISSING else digest,  # type: ignore[arg-type]
                direct=direct,
            )  # fmt: skip
            release.assets.append(asset)
        return asset

    def add_artifact(
        self,
        run_id: int,
        name: str,
        data: bytes,
        *,
        expired: bool = False,
        digest: str | object | None = _MISSING,
    ) -> StandInArtifact:
        with self.standin.lock:
            artifact = StandInArtifact(
                self.standin.next_id(), run_id, name, data, expired,
                _sha_digest(data) if digest is _MISSING else digest,  # type: ignore[arg-type]
                self.refs.get(f"heads/{self.default_branch}", "0" * 40),
            )  # fmt: skip
            self.artifacts.append(artifact)
        return artifact

    def add_pull(
        self,
        number: int,
        title: str,
        *,
        state: Literal["open", "closed"] = "open",
        head_ref: str = "feature",
        base_ref: str | None = None,
        merged: bool = False,
        draft: bool = False,
        user: str = "octocat",
    ) -> StandInPull:
        head_sha = self.resolve(head_ref) or self.add_commit(f"work on {head_ref}",
                                                              branch=head_ref)  # fmt: skip
        pull = StandInPull(number, title, state, head_ref, head_sha,
                           base_ref or self.default_branch, user, draft, merged)  # fmt: skip
        with self.standin.lock:
            self.pulls.append(pull)
        return pull

    def add_issue(self, number: int) -> None:
        self.issues.add(number)

    def add_comment(self, number: int, body: str, *, user: str = "octocat") -> StandInComment:
        with self.standin.lock:
            comment = StandInComment(self.standin.next_id(), number, body, user)
            self.comments.append(comment)
        return comment


@dataclass(frozen=True)
class Recorded:
    """One request the API listener answered."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # names in lower case
    operation: str | None
    status: int


@dataclass(frozen=True)
class ObjectRequest:
    """One request the download host answered."""

    path: str
    authorization: str | None
    status: int


# -- answers -------------------------------------------------------------------------------------


@dataclass
class _Answer:
    status: int
    body: Any = None  # a JSON value, or bytes (raw), or None
    media: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, message: str) -> _Answer:
    """GitHub's error document: `basic-error`, or for 422 `validation-error`, which has no
    `status` field."""
    body = {"message": message, "documentation_url": _DOCS}
    if status != 422:
        body["status"] = str(status)
    return _Answer(status, body)


class _Route:
    def __init__(self, operation_id: str, method: str, template: str, handler: str) -> None:
        self.operation_id = operation_id
        self.method = method
        self.handler = handler
        parts = template.strip("/").split("/")
        self.literals = sum(1 for part in parts if not part.startswith("{"))
        pattern = "/".join(
            f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
            for part in parts
        )
        self.regex = re.compile(f"^/{pattern}$")


# operationId -> handler method of GitHubStandIn
_HANDLERS = {
    "repos/get": "_get_repo",
    "repos/get-commit": "_get_commit",
    "repos/download-tarball-archive": "_tarball",
    "repos/list-releases": "_list_releases",
    "repos/get-release-by-tag": "_release_by_tag",
    "repos/get-latest-release": "_latest_release",
    "repos/list-release-assets": "_list_assets",
    "repos/get-release-asset": "_get_asset",
    "actions/list-workflow-run-artifacts": "_list_artifacts",
    "actions/download-artifact": "_download_artifact",
    "issues/list-comments": "_list_comments",
    "issues/create-comment": "_create_comment",
    "issues/update-comment": "_update_comment",
    "repos/create-deployment": "_create_deployment",
    "repos/create-deployment-status": "_create_status",
    "pulls/list": "_list_pulls",
}
# Answers the description allows without listing their media type: "API clients should handle
# both a 200 or 302 response" (repos/get-release-asset, asked for application/octet-stream).
_RAW_ALLOWED = frozenset({("repos/get-release-asset", 200)})


class GitHubStandIn:
    """The stand-in: `api_url` is its GITHUB_API_URL (with `prefix` "/api/v3" it is shaped as
    GitHub Enterprise Server's), `token` the one token it accepts, `user` the login it belongs
    to. Use as a context manager, or `start()` / `stop()`."""

    def __init__(
        self, *, token: str | None = None, user: str = "s3kit-bot", prefix: str = ""
    ) -> None:
        self.spec = openapi()
        self.token = token or "ghs_" + secrets.token_urlsafe(27)
        self.user = user
        self.prefix = prefix.rstrip("/")
        self.lock = threading.RLock()
        self.repos: dict[tuple[str, str], StandInRepo] = {}
        self.requests: list[Recorded] = []
        self.object_requests: list[ObjectRequest] = []
        self.violations: list[str] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._blobs: dict[str, tuple[bytes, str]] = {}
        self._ids = itertools.count(1001)
        self._users: dict[str, int] = {}
        self._remaining = 5000
        self._routes = sorted(
            (
                _Route(op, *self.spec.operations[op][:2], handler)
                for op, handler in _HANDLERS.items()
            ),
            key=lambda route: -route.literals,
        )
        self._api = _server(self._handle_api)
        self._objects = _server(self._handle_object)
        self.api_port = self._api.server_address[1]
        self.objects_port = self._objects.server_address[1]
        self.api_url = f"http://127.0.0.1:{self.api_port}{self.prefix}"
        self.html_url = f"http://127.0.0.1:{self.api_port}"
        self.objects_url = f"http://127.0.0.1:{self.objects_port}"
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> GitHubStandIn:
        for server in (self._api, self._objects):
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in (self._api, self._objects):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> GitHubStandIn:
        return self.start()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.stop()
        if exc_type is None:
            self.check()

    def check(self) -> None:
        """Fail when any answer or request broke GitHub's description."""
        if self.violations:
            raise AssertionError(
                "the GitHub stand-in broke GitHub's OpenAPI description:\n  "
                + "\n  ".join(self.violations)
            )

    # -- setting up ------------------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def add_repo(
        self,
        slug: str,
        *,
        private: bool = False,
        default_branch: str = "main",
        description: str | None = "a repository",
    ) -> StandInRepo:
        owner, _, name = slug.partition("/")
        repo = StandInRepo(self, owner, name, self.next_id(), private, default_branch,
                           description)  # fmt: skip
        repo.add_commit("initial commit")
        self.repos[(owner.lower(), name.lower())] = repo
        return repo

    def fail(self, operation_id: str, *faults: Fault) -> None:
        """Answer the next requests to `operation_id` with `faults`, one each, in order."""
        if operation_id not in _HANDLERS:
            raise KeyError(f"the stand-in does not serve {operation_id}")
        with self.lock:
            self._faults.setdefault(operation_id, deque()).extend(faults)

    def requests_for(self, operation_id: str) -> list[Recorded]:
        return [r for r in self.requests if r.operation == operation_id]

    # -- the API listener ------------------------------------------------------------------------

    def _handle_api(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        query = parse_qs(split.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in handler.headers.items()}
        length = int(headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        operation_id: str | None = None
        try:
            answer, operation_id = self._answer(handler.command, split.path, query, headers, raw)
        except Exception as exc:  # a bug of the stand-in's own: say so, loudly
            self.violations.append(f"stand-in error on {handler.command} {split.path}: {exc!r}")
            answer = _error(500, f"stand-in error: {exc!r}")
        answer = self._checked(operation_id, answer)
        with self.lock:
            self.requests.append(
                Recorded(handler.command, split.path, query, headers, operation_id, answer.status)
            )
        self._send(handler, answer, api=True)

    def _checked(self, operation_id: str | None, answer: _Answer) -> _Answer:
        """`answer` when it keeps to the description; else a 501 saying why (and kept)."""
        raw = isinstance(answer.body, bytes | str) and answer.media != "application/vnd.github.sha"
        if operation_id is None:  # no such route: GitHub's 404 error document
            problems = self.spec.check_error(answer.body)
        elif raw:
            allowed = (operation_id, answer.status) in _RAW_ALLOWED
            problems = [] if allowed else [f"{operation_id} {answer.status}: a raw body"]
        else:
            media = answer.media if answer.body is not None else None
            problems = self.spec.check_response(operation_id, answer.status, media, answer.body)
        if not problems:
            return answer
        with self.lock:
            self.violations.extend(problems)
        message = "stand-in answer violates GitHub's OpenAPI description: " + "; ".join(problems)
        return _Answer(501, {"message": message[:500]})

    def _route(self, method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
        """The route of `method path`; None answers 404, as GitHub does an unknown route."""
        for route in self._routes:
            match = route.regex.match(path)
            if match is not None and route.method == method:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}
        return None

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        raw: bytes,
    ) -> tuple[_Answer, str | None]:
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                return _error(404, "Not Found"), None
            path = path[len(self.prefix) :]
        # GitHub's Link headers name a repository by id: /repositories/{id}/releases?page=2
        by_id = re.match(r"^/repositories/(\d+)(/.*)?$", path)
        if by_id:
            repo_by_id = next((r for r in self.repos.values() if r.id == int(by_id.group(1))), None)
            if repo_by_id is None:
                return _error(404, "Not Found"), None
            path = (
                f"/repos/{quote(repo_by_id.owner)}/{quote(repo_by_id.name)}{by_id.group(2) or ''}"
            )
        found = self._route(method, path)
        if found is None:
            return _error(404, "Not Found"), None
        route, params = found
        operation_id = route.operation_id
        body: Any = _MISSING
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return _error(400, "Problems parsing JSON"), operation_id
        problems = self.spec.check_request(operation_id, params, query, body)
        if problems:
            with self.lock:
                self.violations.extend(problems)
            return _error(422, "stand-in: request violates the description: "
                          + "; ".join(problems)[:400]), operation_id  # fmt: skip
        version = headers.get("x-github-api-version")
        if version is not None and version not in API_VERSIONS:
            return _error(400, f"Unsupported 'X-GitHub-Api-Version' header: {version}"), (
                operation_id
            )
        authorization = headers.get("authorization")
        authenticated = False
        if authorization is not None:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() not in ("bearer", "token") or value != self.token:
                return _error(401, "Bad credentials"), operation_id
            authenticated = True
        with self.lock:
            faults = self._faults.get(operation_id)
            fault = faults.popleft() if faults else None
        if fault is not None:
            answer = _error(fault.status, fault.message)
            answer.headers.update(fault.headers)
            return answer, operation_id
        repo = self.repos.get((params.get("owner", "").lower(), params.get("repo", "").lower()))
        if repo is None or (repo.private and not authenticated):
            return _error(404, "Not Found"), operation_id
        if method != "GET" and not authenticated:
            return _error(401, "Requires authentication"), operation_id
        request = _Request(repo, params, query, headers, body, authenticated, path)
        with self.lock:
            answer = getattr(self, route.handler)(request)
        return answer, operation_id

    def _send(self, handler: BaseHTTPRequestHandler, answer: _Answer, *, api: bool) -> None:
        if isinstance(answer.body, bytes):
            payload = answer.body
        elif isinstance(answer.body, str):
            payload = answer.body.encode()
        elif answer.body is None:
            payload = b""
        else:
            payload = json.dumps(answer.body).encode()
        handler.send_response(answer.status)
        if payload or answer.body is not None:
            media = answer.media or "application/octet-stream"
            charset = "; charset=utf-8" if media.startswith("application/json") else ""
            handler.send_header("Content-Type", media + charset)
        handler.send_header("Content-Length", str(len(payload)))
        if api:
            with self.lock:
                self._remaining = max(self._remaining - 1, 0)
                remaining = self._remaining
            handler.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
            handler.send_header("X-GitHub-Request-Id", secrets.token_hex(8).upper())
            handler.send_header("X-RateLimit-Limit", "5000")
            handler.send_header("X-RateLimit-Resource", "core")
            for name, value in {
                "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-used": str(5000 - remaining),
                "x-ratelimit-reset": str(int(time.time()) + 3600),
                **answer.headers,
            }.items():
                handler.send_header(name, value)
        else:
            for name, value in answer.headers.items():
                handler.send_header(name, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(payload)

    # -- the download host -----------------------------------------------------------------------

    def _link(self, data: bytes, media: str, path: str) -> str:
        """A signed, one-off download link on the download host."""
        token = secrets.token_urlsafe(16)
        with self.lock:
            self._blobs[token] = (data, media)
        return f"{self.objects_url}{path}?{urlencode({'sig': token, 'expires': '60'})}"

    def _handle_object(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        authorization = handler.headers.get("Authorization")
        token = parse_qs(split.query).get("sig", [""])[0]
        with self.lock:
            blob = self._blobs.get(token)
        if authorization is not None:
            # S3's answer to a presigned URL that also carries an Authorization header.
            refusal = b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism"
            answer = _Answer(400, refusal + b" allowed</Message></Error>", "application/xml")
        elif blob is None or handler.command != "GET":
            answer = _Answer(403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
        else:
            answer = _Answer(200, blob[0], blob[1])
        with self.lock:
            self.object_requests.append(ObjectRequest(split.path, authorization, answer.status))
        self._send(handler, answer, api=False)

    # -- documents, shaped as GitHub's -----------------------------------------------------------

    def _user(self, login: str) -> dict[str, Any]:
        with self.lock:
            uid = self._users.setdefault(login, 5000 + len(self._users))
        api, html = self.api_url, self.html_url
        return {
            "login": login, "id": uid, "node_id": "U_" + base64.b32encode(login.encode()).decode(),
            "avatar_url": f"{html}/avatars/{login}", "gravatar_id": "",
            "url": f"{api}/users/{login}", "html_url": f"{html}/{login}",
            "followers_url": f"{api}/users/{login}/followers",
            "following_url": f"{api}/users/{login}/following{{/other_user}}",
            "gists_url": f"{api}/users/{login}/gists{{/gist_id}}",
            "starred_url": f"{api}/users/{login}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/users/{login}/subscriptions",
            "organizations_url": f"{api}/users/{login}/orgs",
            "repos_url": f"{api}/users/{login}/repos",
            "events_url": f"{api}/users/{login}/events{{/privacy}}",
            "received_events_url": f"{api}/users/{login}/received_events",
            "type": "Bot" if login.endswith("[bot]") else "User",
            "user_view_type": "public", "site_admin": False,
        }  # fmt: skip

    def _repo_doc(self, repo: StandInRepo, *, full: bool) -> dict[str, Any]:
        base = f"{self.api_url}/repos/{repo.slug}"
        html = f"{self.html_url}/{repo.slug}"
        host = urlsplit(self.html_url).netloc
        created = "2020-01-01T00:00:00Z"
        doc: dict[str, Any] = {
            "id": repo.id, "node_id": f"R_{repo.id}", "name": repo.name,
            "full_name": repo.slug, "owner": self._user(repo.owner), "private": repo.private,
            "html_url": html, "description": repo.description, "fork": False, "url": base,
            "archive_url": f"{base}/{{archive_format}}{{/ref}}",
            "assignees_url": f"{base}/assignees{{/user}}",
            "blobs_url": f"{base}/git/blobs{{/sha}}",
            "branches_url": f"{base}/branches{{/branch}}",
            "collaborators_url": f"{base}/collaborators{{/collaborator}}",
            "comments_url": f"{base}/comments{{/number}}",
            "commits_url": f"{base}/commits{{/sha}}",
            "compare_url": f"{base}/compare/{{base}}...{{head}}",
            "contents_url": f"{base}/contents/{{+path}}",
            "contributors_url": f"{base}/contributors",
            "deployments_url": f"{base}/deployments", "downloads_url": f"{base}/downloads",
            "events_url": f"{base}/events", "forks_url": f"{base}/forks",
            "git_commits_url": f"{base}/git/commits{{/sha}}",
            "git_refs_url": f"{base}/git/refs{{/sha}}",
            "git_tags_url": f"{base}/git/tags{{/sha}}", "git_url": f"git://{host}/{repo.slug}.git",
            "issue_comment_url": f"{base}/issues/comments{{/number}}",
            "issue_events_url": f"{base}/issues/events{{/number}}",
            "issues_url": f"{base}/issues{{/number}}", "keys_url": f"{base}/keys{{/key_id}}",
            "labels_url": f"{base}/labels{{/name}}", "languages_url": f"{base}/languages",
            "merges_url": f"{base}/merges",
            "milestones_url": f"{base}/milestones{{/number}}",
            "notifications_url": f"{base}/notifications{{?since,all,participating}}",
            "pulls_url": f"{base}/pulls{{/number}}", "releases_url": f"{base}/releases{{/id}}",
            "ssh_url": f"git@{host}:{repo.slug}.git",
            "stargazers_url": f"{base}/stargazers", "statuses_url": f"{base}/statuses/{{sha}}",
            "subscribers_url": f"{base}/subscribers",
            "subscription_url": f"{base}/subscription", "tags_url": f"{base}/tags",
            "teams_url": f"{base}/teams", "trees_url": f"{base}/git/trees{{/sha}}",
            "clone_url": f"{html}.git", "mirror_url": None, "hooks_url": f"{base}/hooks",
            "svn_url": html, "homepage": None, "language": None, "forks_count": 0,
            "stargazers_count": 0, "watchers_count": 0, "size": 1, "default_branch":
            repo.default_branch, "open_issues_count": 0, "is_template": False, "topics": [],
            "has_issues": True, "has_projects": False, "has_wiki": False, "has_pages": False,
            "has_downloads": True, "archived": False, "disabled": False,
            "visibility": "private" if repo.private else "public", "pushed_at": created,
            "created_at": created, "updated_at": created,
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True,
                            "pull": True},
            "allow_forking": True, "web_commit_signoff_required": False, "forks": 0,
            "open_issues": 0, "watchers": 0, "license": None,
        }  # fmt: skip
        if full:
            doc.update({"has_discussions": False, "network_count": 0, "subscribers_count": 1})
        return doc

    def _commit_doc(self, repo: StandInRepo, commit: StandInCommit) -> dict[str, Any]:
        base = f"{self.api_url}/repos/{repo.slug}"
        html = f"{self.html_url}/{repo.slug}"
        person = {"name": "Octo Cat", "email": "octocat@example.com", "date": commit.date}
        return {
            "sha": commit.sha, "node_id": f"C_{commit.sha[:12]}",
            "url": f"{base}/commits/{commit.sha}", "html_url": f"{html}/commit/{commit.sha}",
            "comments_url": f"{base}/commits/{commit.sha}/comments",
            "commit": {
                "url": f"{base}/git/commits/{commit.sha}", "author": person, "committer": person,
                "message": commit.message, "comment_count": 0,
                "tree": {"sha": hashlib.sha1(commit.sha.encode()).hexdigest(),
                         "url": f"{base}/git/trees/{commit.sha}"},
                "verification": {"verified": False, "reason": "unsigned", "payload": None,
                                 "signature": None, "verified_at": None},
            },
            "author": self._user("octocat"), "committer": self._user("octocat"),
            "parents": [{"sha": p, "url": f"{base}/commits/{p}", "html_url": f"{html}/commit/{p}"}
                        for p in commit.parents],
            "stats": {"additions": 1, "deletions": 0, "total": 1},
            "files": [],
        }  # fmt: skip

    def _asset_doc(self, repo: StandInRepo, release: StandInRelease, asset: StandInAsset) -> Any:
        return {
            "url": f"{self.api_url}/repos/{repo.slug}/releases/assets/{asset.id}",
            "browser_download_url":
                f"{self.html_url}/{repo.slug}/releases/download/{release.tag_name}/{asset.name}",
            "id": asset.id, "node_id": f"RA_{asset.id}", "name": asset.name,
            "label": asset.label, "state": asset.state, "content_type": asset.content_type,
            "size": len(asset.data), "digest": asset.digest, "download_count": 0,
            "created_at": asset.created_at, "updated_at": asset.created_at,
            "uploader": self._user(self.user),
        }  # fmt: skip

    def _release_doc(self, repo: StandInRepo, release: StandInRelease) -> Any:
        base = f"{self.api_url}/repos/{repo.slug}"
        html = f"{self.html_url}/{repo.slug}"
        published = None if release.draft else release.created_at
        return {
            "url": f"{base}/releases/{release.id}",
            "html_url": f"{html}/releases/tag/{release.tag_name}",
            "assets_url": f"{base}/releases/{release.id}/assets",
            "upload_url": f"{self.objects_url}/repos/{repo.slug}/releases/{release.id}/assets"
                          "{?name,label}",
            "tarball_url": f"{base}/tarball/{release.tag_name}",
            "zipball_url": f"{base}/zipball/{release.tag_name}",
            "id": release.id, "node_id": f"RE_{release.id}", "tag_name": release.tag_name,
            "target_commitish": release.target_commitish, "name": release.name,
            "body": release.body, "draft": release.draft, "prerelease": release.prerelease,
            "immutable": False, "created_at": release.created_at, "published_at": published,
            "updated_at": release.created_at, "author": self._user(self.user),
            "assets": [self._asset_doc(repo, release, asset) for asset in release.assets],
        }  # fmt: skip

    def _artifact_doc(self, repo: StandInRepo, artifact: StandInArtifact) -> Any:
        base = f"{self.api_url}/repos/{repo.slug}/actions/artifacts/{artifact.id}"
        return {
            "id": artifact.id, "node_id": f"MDg6QXJ0aWZhY3Q{artifact.id}",
            "name": artifact.name, "size_in_bytes": len(artifact.data), "url": base,
            "archive_download_url": f"{base}/zip", "expired": artifact.expired,
            "created_at": artifact.created_at, "updated_at": artifact.created_at,
            "expires_at": "2020-01-01T00:00:00Z" if artifact.expired else "2999-01-01T00:00:00Z",
            "digest": artifact.digest,
            "workflow_run": {"id": artifact.run_id, "repository_id": repo.id,
                             "head_repository_id": repo.id, "head_branch": repo.default_branch,
                             "head_sha": artifact.head_sha},
        }  # fmt: skip

    def _comment_doc(self, repo: StandInRepo, comment: StandInComment) -> Any:
        base = f"{self.api_url}/repos/{repo.slug}"
        kind = "pull" if any(p.number == comment.issue for p in repo.pulls) else "issues"
        return {
            "id": comment.id, "node_id": f"IC_{comment.id}",
            "url": f"{base}/issues/comments/{comment.id}",
            "html_url": f"{self.html_url}/{repo.slug}/{kind}/{comment.issue}"
                        f"#issuecomment-{comment.id}",
            "body": comment.body, "user": self._user(comment.user),
            "created_at": comment.created_at, "updated_at": comment.updated_at,
            "issue_url": f"{base}/issues/{comment.issue}",
            "author_association": "OWNER" if comment.user == repo.owner else "NONE",
            "performed_via_github_app": None,
            "reactions": {"url": f"{base}/issues/comments/{comment.id}/reactions",
                          "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "confused": 0,
                          "heart": 0, "hooray": 0, "eyes": 0, "rocket": 0},
        }  # fmt: skip

    def _deployment_doc(self, repo: StandInRepo, deployment: StandInDeployment) -> Any:
        base = f"{self.api_url}/repos/{repo.slug}"
        return {
            "url": f"{base}/deployments/{deployment.id}", "id": deployment.id,
            "node_id": f"DE_{deployment.id}", "sha": deployment.sha, "ref": deployment.ref,
            "task": deployment.task, "payload": deployment.payload,
            "original_environment": deployment.environment,
            "environment": deployment.environment, "description": deployment.description,
            "creator": self._user(deployment.creator), "created_at": deployment.created_at,
            "updated_at": deployment.created_at,
            "statuses_url": f"{base}/deployments/{deployment.id}/statuses",
            "repository_url": base, "transient_environment": deployment.transient_environment,
            "production_environment": deployment.production_environment,
            "performed_via_github_app": None,
        }  # fmt: skip

    def _status_doc(
        self, repo: StandInRepo, deployment: StandInDeployment, status: StandInStatus
    ) -> Any:
        base = f"{self.api_url}/repos/{repo.slug}"
        return {
            "url": f"{base}/deployments/{deployment.id}/statuses/{status.id}",
            "id": status.id, "node_id": f"DES_{status.id}", "state": status.state,
            "creator": self._user(self.user), "description": status.description,
            "environment": status.environment, "target_url": status.target_url,
            "created_at": status.created_at, "updated_at": status.created_at,
            "deployment_url": f"{base}/deployments/{deployment.id}", "repository_url": base,
            "environment_url": status.environment_url, "log_url": status.log_url,
            "performed_via_github_app": None,
        }  # fmt: skip

    def _pull_doc(self, repo: StandInRepo, pull: StandInPull) -> Any:
        base = f"{self.api_url}/repos/{repo.slug}"
        html = f"{self.html_url}/{repo.slug}/pull/{pull.number}"
        closed = pull.created_at if pull.state == "closed" else None
        base_sha = repo.resolve(pull.base_ref) or "0" * 40

        def side(ref: str, sha: str) -> dict[str, Any]:
            return {
                "label": f"{repo.owner}:{ref}",
                "ref": ref,
                "sha": sha,
                "repo": self._repo_doc(repo, full=False),
                "user": self._user(repo.owner),
            }

        def link(href: str) -> dict[str, str]:
            return {"href": href}

        return {
            "url": f"{base}/pulls/{pull.number}", "id": 9000 + pull.number,
            "node_id": f"PR_{pull.number}", "html_url": html, "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch", "issue_url": f"{base}/issues/{pull.number}",
            "commits_url": f"{base}/pulls/{pull.number}/commits",
            "review_comments_url": f"{base}/pulls/{pull.number}/comments",
            "review_comment_url": f"{base}/pulls/comments{{/number}}",
            "comments_url": f"{base}/issues/{pull.number}/comments",
            "statuses_url": f"{base}/statuses/{pull.head_sha}", "number": pull.number,
            "state": pull.state, "locked": False, "title": pull.title,
            "user": self._user(pull.user), "body": pull.body, "labels": [], "milestone": None,
            "active_lock_reason": None, "created_at": pull.created_at,
            "updated_at": pull.created_at, "closed_at": closed,
            "merged_at": closed if pull.merged else None,
            "merge_commit_sha": pull.head_sha if pull.merged else None,
            "assignee": None, "assignees": [], "requested_reviewers": [], "requested_teams": [],
            "head": side(pull.head_ref, pull.head_sha), "base": side(pull.base_ref, base_sha),
            "_links": {
                "self": link(f"{base}/pulls/{pull.number}"), "html": link(html),
                "issue": link(f"{base}/issues/{pull.number}"),
                "comments": link(f"{base}/issues/{pull.number}/comments"),
                "review_comments": link(f"{base}/pulls/{pull.number}/comments"),
                "review_comment": link(f"{base}/pulls/comments{{/number}}"),
                "commits": link(f"{base}/pulls/{pull.number}/commits"),
                "statuses": link(f"{base}/statuses/{pull.head_sha}"),
            },
            "author_association": "OWNER" if pull.user == repo.owner else "CONTRIBUTOR",
            "auto_merge": None, "draft": pull.draft,
        }  # fmt: skip

    # -- pagination, as GitHub does it ---------------------------------------------------------

    def _page(self, request: _Request, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        per_page = min(int(request.query.get("per_page", ["30"])[0]), 100)
        page = max(int(request.query.get("page", ["1"])[0]), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chosen = items[(page - 1) * per_page : page * per_page]
        rest = request.path.split(f"/repos/{request.repo.owner}/{request.repo.name}", 1)[-1]
        # GitHub's links name the repository by id, and keep the other query parameters.
        kept = {k: v[0] for k, v in request.query.items() if k not in ("page", "per_page")}

        def url(number: int) -> str:
            query = urlencode({**kept, "per_page": per_page, "page": number})
            return f"{self.api_url}/repositories/{request.repo.id}{rest}?{query}"

        links = []
        if page < last:
            links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
        return chosen, ({"link": ", ".join(links)} if links else {})

    # -- handlers (called with the lock held) ----------------------------------------------------

    def _get_repo(self, request: _Request) -> _Answer:
        return _Answer(200, self._repo_doc(request.repo, full=True))

    def _get_commit(self, request: _Request) -> _Answer:
        repo = request.repo
        sha = repo.resolve(request.params["ref"])
        if sha is None:
            return _error(422, f"No commit found for SHA: {request.params['ref']}")
        if request.headers.get("accept", "").startswith("application/vnd.github.sha"):
            return _Answer(200, sha, "application/vnd.github.sha")
        return _Answer(200, self._commit_doc(repo, repo.commits[sha]))

    def _tarball(self, request: _Request) -> _Answer:
        repo = request.repo
        ref = request.params["ref"]
        sha = repo.resolve(ref)
        if sha is None:
            return _error(404, "Not Found")
        link = self._link(repo.commits[sha].tarball, "application/x-gzip",
                          f"/codeload/{repo.slug}/legacy.tar.gz/{quote(ref)}")  # fmt: skip
        return _Answer(302, None, None, {"location": link})

    def _list_releases(self, request: _Request) -> _Answer:
        repo = request.repo
        shown = [r for r in reversed(repo.releases) if not r.draft or request.authenticated]
        chosen, headers = self._page(request, shown)
        return _Answer(200, [self._release_doc(repo, r) for r in chosen], headers=headers)

    def _release_by_tag(self, request: _Request) -> _Answer:
        repo = request.repo
        for release in repo.releases:
            if release.tag_name == request.params["tag"] and not release.draft:
                return _Answer(200, self._release_doc(repo, release))
        return _error(404, "Not Found")

    def _latest_release(self, request: _Request) -> _Answer:
        repo = request.repo
        full = [r for r in repo.releases if not r.draft and not r.prerelease]
        if not full:
            return _error(404, "Not Found")
        return _Answer(200, self._release_doc(repo, max(full, key=lambda r: r.created_at)))

    def _find_asset(self, repo: StandInRepo, asset_id: str) -> tuple[Any, Any]:
        for release in repo.releases:
            for asset in release.assets:
                if str(asset.id) == asset_id:
                    return release, asset
        return None, None

    def _list_assets(self, request: _Request) -> _Answer:
        repo = request.repo
        release = next((r for r in repo.releases if str(r.id) == request.params["release_id"]),
                       None)  # fmt: skip
        if release is None:
            return _Answer(200, [])  # GitHub documents no 404 here; it answers an empty list
        chosen, headers = self._page(request, release.assets)
        return _Answer(200, [self._asset_doc(repo, release, a) for a in chosen], headers=headers)

    def _get_asset(self, request: _Request) -> _Answer:
        repo = request.repo
        release, asset = self._find_asset(repo, request.params["asset_id"])
        if asset is None:
            return _error(404, "Not Found")
        if request.headers.get("accept") != "application/octet-stream":
            return _Answer(200, self._asset_doc(repo, release, asset))
        if asset.state != "uploaded":
            return _error(404, "Not Found")
        if asset.direct:
            return _Answer(200, asset.data, "application/octet-stream")
        link = self._link(asset.data, "application/octet-stream",
                          f"/release-assets/{repo.id}/{asset.id}")  # fmt: skip
        return _Answer(302, None, None, {"location": link})

    def _list_artifacts(self, request: _Request) -> _Answer:
        repo = request.repo
        run_id = int(request.params["run_id"])
        name = request.query.get("name", [None])[0]
        found = [a for a in reversed(repo.artifacts)
                 if a.run_id == run_id and (name is None or a.name == name)]  # fmt: skip
        chosen, headers = self._page(request, found)
        return _Answer(
            200,
            {"total_count": len(found), "artifacts": [self._artifact_doc(repo, a) for a in chosen]},
            headers=headers,
        )

    def _download_artifact(self, request: _Request) -> _Answer:
        repo = request.repo
        artifact = next((a for a in repo.artifacts if str(a.id) == request.params["artifact_id"]),
                        None)  # fmt: skip
        if artifact is None or request.params["archive_format"] != "zip":
            return _error(404, "Not Found")
        if artifact.expired:
            return _error(410, "Artifact has expired")
        link = self._link(artifact.data, "application/zip",
                          f"/artifacts/{repo.id}/{artifact.id}.zip")  # fmt: skip
        return _Answer(302, None, None, {"location": link})

    def _issue_exists(self, repo: StandInRepo, number: int) -> bool:
        return number in repo.issues or any(p.number == number for p in repo.pulls)

    def _list_comments(self, request: _Request) -> _Answer:
        repo = request.repo
        number = int(request.params["issue_number"])
        if not self._issue_exists(repo, number):
            return _error(404, "Not Found")
        found = [c for c in repo.comments if c.issue == number]
        chosen, headers = self._page(request, found)
        return _Answer(200, [self._comment_doc(repo, c) for c in chosen], headers=headers)

    def _create_comment(self, request: _Request) -> _Answer:
        repo = request.repo
        number = int(request.params["issue_number"])
        if not self._issue_exists(repo, number):
            return _error(404, "Not Found")
        comment = StandInComment(self.next_id(), number, request.body["body"], self.user)
        repo.comments.append(comment)
        return _Answer(201, self._comment_doc(repo, comment),
                       headers={"location": f"{self.api_url}/repos/{repo.slug}/issues/comments/"
                                            f"{comment.id}"})  # fmt: skip

    def _update_comment(self, request: _Request) -> _Answer:
        repo = request.repo
        comment = next((c for c in repo.comments if str(c.id) == request.params["comment_id"]),
                       None)  # fmt: skip
        if comment is None:
            # GitHub documents only 200 and 422 here; a missing comment is its 404 document.
            return _error(404, "Not Found")
        if comment.user != self.user:
            return _error(403, "You must be the author to edit this comment")
        comment.body = request.body["body"]
        comment.updated_at = _now()
        return _Answer(200, self._comment_doc(repo, comment))

    def _create_deployment(self, request: _Request) -> _Answer:
        repo = request.repo
        body = request.body
        sha = repo.resolve(body["ref"])
        if sha is None:
            return _error(422, f"No ref found for: {body['ref']}")
        environment = body.get("environment", "production")
        deployment = StandInDeployment(
            self.next_id(), sha, body["ref"], body.get("task", "deploy"), environment,
            body.get("description", ""), bool(body.get("transient_environment", False)),
            bool(body.get("production_environment", environment == "production")),
            body.get("payload", {}), self.user, dict(body),
        )  # fmt: skip
        repo.deployments.append(deployment)
        return _Answer(201, self._deployment_doc(repo, deployment))

    def _create_status(self, request: _Request) -> _Answer:
        repo = request.repo
        deployment = next(
            (d for d in repo.deployments if str(d.id) == request.params["deployment_id"]), None
        )
        if deployment is None:
            return _error(404, "Not Found")
        body = request.body
        status = StandInStatus(
            self.next_id(), body["state"], body.get("description", ""),
            body.get("environment", deployment.environment), body.get("environment_url", ""),
            body.get("log_url", ""), body.get("target_url", ""),
        )  # fmt: skip
        deployment.statuses.append(status)
        location = (
            f"{self.api_url}/repos/{repo.slug}/deployments/{deployment.id}/statuses/{status.id}"
        )
        return _Answer(201, self._status_doc(repo, deployment, status),
                       headers={"location": location})  # fmt: skip

    def _list_pulls(self, request: _Request) -> _Answer:
        repo = request.repo
        state = request.query.get("state", ["open"])[0]
        head = request.query.get("head", [None])[0]
        base = request.query.get("base", [None])[0]
        found = [
            p for p in sorted(repo.pulls, key=lambda p: -p.number)
            if (state == "all" or p.state == state)
            and (head is None or head == f"{repo.owner}:{p.head_ref}")
            and (base is None or base == p.base_ref)
        ]  # fmt: skip
        chosen, headers = self._page(request, found)
        return _Answer(200, [self._pull_doc(repo, p) for p in chosen], headers=headers)


@dataclass
class _Request:
    repo: StandInRepo
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    authenticated: bool
    path: str


def _server(handle: Callable[[BaseHTTPRequestHandler], None]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            handle(self)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


@contextlib.contextmanager
def running_standin(**options: Any) -> Iterator[GitHubStandIn]:
    """A started stand-in (`GitHubStandIn(**options)`), stopped after; fails when anything it
    sent or was sent broke the description. The body of a pytest fixture:

        @pytest.fixture
        def standin() -> Iterator[GitHubStandIn]:
            with running_standin() as running:
                yield running
    """
    with GitHubStandIn(**options) as standin:
        yield standin


__all__ = [
    "OPENAPI_MISSING",
    "OPENAPI_PATH",
    "OPENAPI_VERSION",
    "Fault",
    "GitHubStandIn",
    "ObjectRequest",
    "OpenAPI",
    "Recorded",
    "StandInArtifact",
    "StandInAsset",
    "StandInDeployment",
    "StandInPull",
    "StandInRelease",
    "StandInRepo",
    "openapi",
    "running_standin",
]
