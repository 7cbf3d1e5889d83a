"""`configs batch plan.yaml`: many pushes and pulls in one run, a few at a time, each with its
own result — one failing item never stops the others.

    concurrency: 4                 # optional (default 4)
    items:                         # or the list alone, as the whole file
      - {action: push, tool: prometheus, env: staging, path: prometheus/, message: "..."}
      - {action: push, tool: alertmanager, env: staging, path: [alertmanager.yml, templates/]}
      - {action: pull, tool: grafana, env: prod, dest: out/grafana, version: 12}

Push items take `path` (one or a list), `message`, `force`, `validate` (default true),
`validator` (auto, real, builtin); pull items `dest`, `version`, `force`. Relative paths are
relative to the plan file's folder. The plan is checked whole before any item runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from s3kit._aio import run_bounded
from s3kit.configs.bundle import ValidatorChoice
from s3kit.configs.layout import Release, check_env, check_tool
from s3kit.configs.outcomes import PushOutcome
from s3kit.errors import S3KitError, UsageError, translating

if TYPE_CHECKING:
    from s3kit.configs.store import ConfigStore

_PUSH_KEYS = {"action", "tool", "env", "path", "message", "force", "validate", "validator"}
_PULL_KEYS = {"action", "tool", "env", "dest", "version", "force"}


@dataclass(frozen=True, slots=True)
class BatchItem:
    action: Literal["push", "pull"]
    tool: str
    env: str
    paths: tuple[Path, ...] = ()  # push: what to push
    dest: Path | None = None  # pull: where to
    message: str = ""
    version: int | None = None
    force: bool = False
    validate: bool = True
    validator: ValidatorChoice = "auto"

    def __post_init__(self) -> None:
        check_tool(self.tool)
        check_env(self.env)
        if self.action == "push" and not self.paths:
            raise UsageError(f"push {self.tool} {self.env}: name its files with `path`")
        if self.action == "pull" and self.dest is None:
            raise UsageError(f"pull {self.tool} {self.env}: name the folder with `dest`")
        if self.action not in ("push", "pull"):
            raise UsageError(f"a batch item is a push or a pull, not {self.action!r}")
        if self.validator not in ("auto", "real", "builtin"):
            raise UsageError(f"the validator is auto, real or builtin, not {self.validator!r}")
        if self.version is not None and self.version < 1:
            raise UsageError("release numbers start at 1")

    @property
    def label(self) -> str:
        return f"{self.action} {self.tool} {self.env}"


@dataclass(frozen=True, slots=True)
class BatchPlan:
    items: tuple[BatchItem, ...]
    concurrency: int = 4

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise UsageError("a batch's concurrency must be 1 or more")


@dataclass(frozen=True, slots=True)
class BatchResult:
    item: BatchItem
    outcome: PushOutcome | Release | None = None  # a push's outcome, a pull's release
    error: S3KitError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def document(self) -> dict[str, Any]:
        item = self.item
        base: dict[str, Any] = {
            "action": item.action,
            "tool": item.tool,
            "env": item.env,
            "status": "done" if self.ok else "failed",
            "error": None
            if self.error is None
            else {"code": self.error.code or None, "message": self.error.message},
        }
        if isinstance(self.outcome, PushOutcome):
            base.update(result=self.outcome.status, release=self.outcome.release.number)
        elif isinstance(self.outcome, Release):
            base.update(result="pulled", release=self.outcome.number, dest=str(item.dest))
        return base


def parse_batch_plan(document: Any, base: Path, where: str) -> BatchPlan:
    """The plan in `document` (parsed YAML), its paths relative to `base`."""
    if isinstance(document, list):
        document = {"items": document}
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise UsageError(f"{where}: a batch plan is a list of items (or `items:` and them)")
    unknown = set(document) - {"items", "concurrency"}
    if unknown:
        raise UsageError(f"{where}: unknown key {sorted(unknown)[0]!r} (items, concurrency)")
    items = []
    for number, raw in enumerate(document["items"], 1):
        try:
            items.append(_item(raw, base))
        except UsageError as exc:
            raise UsageError(f"{where}: item {number}: {exc.message}") from exc
    if not items:
        raise UsageError(f"{where}: the plan has no items")
    concurrency = document.get("concurrency", 4)
    if not isinstance(concurrency, int) or isinstance(concurrency, bool):
        raise UsageError(f"{where}: concurrency is a number")
    return BatchPlan(tuple(items), concurrency)


def _item(raw: Any, base: Path) -> BatchItem:
    if not isinstance(raw, dict) or raw.get("action") not in ("push", "pull"):
        raise UsageError("each item is a mapping with `action: push` or `action: pull`")
    allowed = _PUSH_KEYS if raw["action"] == "push" else _PULL_KEYS
    unknown = set(raw) - allowed
    if unknown:
        raise UsageError(f"unknown key {sorted(unknown)[0]!r} for a {raw['action']}")
    for key in ("tool", "env"):
        if not isinstance(raw.get(key), str):
            raise UsageError(f"`{key}` is missing")
    paths = raw.get("path", [])
    paths = [paths] if isinstance(paths, str) else paths
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise UsageError("`path` is a path or a list of paths")
    dest = raw.get("dest")
    version = raw.get("version")
    for key, kind in (("message", str), ("dest", str), ("force", bool), ("validate", bool),
                      ("validator", str), ("version", int)):  # fmt: skip
        if raw.get(key) is not None and not isinstance(raw[key], kind):
            raise UsageError(f"`{key}` must be a {kind.__name__}")
    return BatchItem(
        action=raw["action"],
        tool=raw["tool"],
        env=raw["env"],
        paths=tuple(base / p for p in paths),
        dest=None if dest is None else base / dest,
        message=raw.get("message") or "",
        version=version,
        force=bool(raw.get("force", False)),
        validate=bool(raw.get("validate", True)),
        validator=raw.get("validator", "auto"),
    )


def load_batch_plan(path: str | Path) -> BatchPlan:
    import yaml

    plan_file = Path(path)
    with translating(path=str(plan_file)):
        text = plan_file.read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{plan_file} is not YAML ({exc})".splitlines()[0]) from exc
    return parse_batch_plan(document, plan_file.parent, str(plan_file))


async def run_batch(store: ConfigStore, plan: BatchPlan) -> list[BatchResult]:
    """Every item, at most `plan.concurrency` at once; results in the plan's order."""
    results: list[BatchResult | None] = [None] * len(plan.items)

    async def one(index: int, item: BatchItem) -> None:
        try:
            outcome: PushOutcome | Release
            if item.action == "push":
                outcome = await store.push_async(
                    item.tool, item.env, list(item.paths), message=item.message,
                    validator=item.validator, validate=item.validate, force=item.force,
                )  # fmt: skip
            else:
                assert item.dest is not None
                outcome = await store.pull_async(
                    item.tool, item.env, item.dest, version=item.version, force=item.force
                )
        except S3KitError as exc:
            results[index] = BatchResult(item, error=exc)
        else:
            results[index] = BatchResult(item, outcome)

    await run_bounded((one(i, item) for i, item in enumerate(plan.items)), plan.concurrency)
    return [r for r in results if r is not None]


__all__ = [
    "BatchItem",
    "BatchPlan",
    "BatchResult",
    "load_batch_plan",
    "parse_batch_plan",
    "run_batch",
]
