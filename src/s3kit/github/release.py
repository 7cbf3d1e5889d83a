"""Mirror GitHub release assets into a bucket: `s3kit github release mirror`.

Walk, decide, act. The releases come from the GitHub client (one tag, the latest, or every
release oldest first); for each asset a HEAD of its key says what is there, and the pure
`decide_asset` (in `release_plan`, with the keys and the records) says what to do: skip an
asset still uploading (state "open"), upload it, call it already mirrored (same size and
SHA-256), a conflict (other bytes), or compare first (one side's SHA-256 is unknown: GitHub
lists no `digest` for older assets, another tool wrote the object).
Only then is anything downloaded: a re-run that finds everything mirrored downloads nothing.

Keys come from a layout template (`Layout`, "{repo}/{tag}/{name}" by default) under the
destination prefix. After the assets of a release, `{prefix}/{repo}/{tag}/release.json` records
them (key, size, SHA-256); last, and only when everything else succeeded, `{prefix}/{repo}/
latest.json` names the newest full release (not a draft, not a prerelease, nothing skipped)
this run mirrored — and only ever moves forward (by publication time), so mirroring an old tag
never turns `latest` back. It is written with If-Match on what was read (or create-only), so
two mirrors at once cannot both move it.

What it must never do: overwrite an asset key. Every upload is create-only (If-None-Match: *,
on the PUT or on CompleteMultipartUpload above `BIG_ASSET`); the HEAD before it also covers the
stores that ignore conditional writes (rclone serve s3, see `s3kit probe`), short of a writer
landing between the HEAD and the PUT there. An existing key with other bytes is reported as a
conflict for that asset and left as it is. The SHA-256 of what was uploaded is kept as the
object's `sha256` metadata, which is how a later run recognises it. A download is checked
against GitHub's size and `digest` by the client before a byte is uploaded.

The GitHub client blocks (urllib3, one request at a time): its calls run on a worker thread
from the async implementation, and assets are mirrored one after the other.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3kit._aio import blocking_twin
from s3kit._observe import logger
from s3kit._units import MiB
from s3kit._uri import S3Url
from s3kit.errors import (
    BucketNotFound,
    ConflictError,
    CredentialsError,
    ObjectNotFound,
    S3KitError,
    UsageError,
)
from s3kit.github.api import GitHubRepo, Release, ReleaseAsset
from s3kit.github.client import Downloaded
from s3kit.github.release_plan import (
    SHA256_METADATA,
    AssetResult,
    Existing,
    LatestPointer,
    Layout,
    MirrorResult,
    ReleaseResult,
    asset_key,
    compare_digests,
    decide_asset,
    latest_candidate,
    latest_record_key,
    moves_latest,
    release_record_key,
)

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.storage.s3 import S3Storage

# Above this an asset goes up in parallel parts (the transfer layer), still create-only.
BIG_ASSET = 64 * MiB


# -- the run ------------------------------------------------------------------------------------

AssetCallback = Callable[[AssetResult], None]


def _guarded(callback: AssetCallback | None) -> AssetCallback:
    def call(result: AssetResult) -> None:
        if callback is None:
            return
        try:
            callback(result)
        except Exception:
            logger.exception("asset callback failed on %s", result.name)

    return call


async def mirror_releases_async(
    session: Session,
    repo: GitHubRepo,
    destination: S3Url,
    *,
    tag: str | None = None,
    latest: bool = False,
    all_releases: bool = False,
    layout: Layout | None = None,
    dryrun: bool = False,
    workdir: Path | None = None,
    on_asset: AssetCallback | None = None,
    big_asset: int = BIG_ASSET,
) -> MirrorResult:
    """Mirror the assets of release `tag`, of the latest release (`latest`), or of every
    release oldest first (`all_releases`; drafts are skipped) of `repo` into `destination`
    (s3://bucket[/prefix]); exactly one of the three. `dryrun` looks (HEAD) and decides,
    downloading and writing nothing. Downloads go to a temporary folder in `workdir` (the
    system's temporary folder when None). `on_asset` hears of each asset as it ends. Assets
    above `big_asset` bytes go up in parallel parts.

    A failed asset (a conflict, a download that did not match GitHub's digest) is reported in
    the result and the others go on; errors every asset would meet (no such bucket, refused
    credentials) and errors of GitHub's listing are raised."""
    chosen = [name for name, on in (("tag", tag is not None), ("latest", latest),
                                    ("all", all_releases)) if on]  # fmt: skip
    if len(chosen) != 1:
        raise UsageError("give exactly one of --tag TAG, --latest or --all")
    with tempfile.TemporaryDirectory(prefix="s3kit-mirror-", dir=workdir) as folder:
        run = _Mirror(session, repo, destination, layout or Layout(), dryrun,
                      _guarded(on_asset), Path(folder), big_asset)  # fmt: skip
        releases = await run.list_releases(tag=tag, latest=latest)
        for release in releases:
            run.result.releases.append(await run.mirror_release(release))
    await run.point_latest()
    return run.result


mirror_releases = blocking_twin(mirror_releases_async, "mirror_releases")


class _Mirror:
    def __init__(
        self,
        session: Session,
        repo: GitHubRepo,
        destination: S3Url,
        layout: Layout,
        dryrun: bool,
        on_asset: AssetCallback,
        workdir: Path,
        big_asset: int,
    ) -> None:
        self.session = session
        self.repo = repo
        self.destination = destination
        self.layout = layout
        self.dryrun = dryrun
        self.on_asset = on_asset
        self.storage: S3Storage = session.storage(destination.bucket)
        self.workdir = workdir
        self.big_asset = big_asset
        self.reserved: set[str] = set()
        self.result = MirrorResult(repository=repo.slug, destination=destination, dryrun=dryrun)

    async def list_releases(self, *, tag: str | None, latest: bool) -> list[Release]:
        if tag is not None:
            releases = [await asyncio.to_thread(self.repo.release_by_tag, tag)]
        elif latest:
            releases = [await asyncio.to_thread(self.repo.latest_release)]
        else:
            listed = await asyncio.to_thread(lambda: list(self.repo.releases()))
            drafts = [r for r in listed if r.draft]
            self.result.skipped_drafts = [r.tag_name for r in reversed(drafts)]
            # GitHub lists newest first; mirroring oldest first keeps keys in release order.
            releases = [r for r in reversed(listed) if not r.draft]
        # s3kit's own records: no asset may land on one, whatever the layout.
        self.reserved = {latest_record_key(self.destination, self.repo.name)}
        for release in releases:
            self.reserved.add(release_record_key(self.destination, self.repo.name,
                                                 release.tag_name))  # fmt: skip
        return releases

    async def mirror_release(self, release: Release) -> ReleaseResult:
        outcome = ReleaseResult(
            tag=release.tag_name, name=release.name, release_id=release.id,
            published_at=release.published_at, prerelease=release.prerelease,
        )  # fmt: skip
        for asset in release.assets:
            result = await self._asset(release, asset)
            outcome.assets.append(result)
            self.on_asset(result)
        if outcome.ok:
            key = release_record_key(self.destination, self.repo.name, release.tag_name)
            if not self.dryrun:
                body = json.dumps(self._record(release, outcome), indent=2) + "\n"
                await self.storage.put_async(
                    key, body.encode(), content_type="application/json", cache_control="no-cache"
                )
            outcome.record_key = key
        return outcome

    def _record(self, release: Release, outcome: ReleaseResult) -> dict[str, Any]:
        return {
            "repository": self.repo.slug,
            "tag": release.tag_name,
            "name": release.name,
            "published_at": release.published_at.isoformat() if release.published_at else None,
            "prerelease": release.prerelease,
            "release_id": release.id,
            "html_url": release.html_url,
            "assets": [
                {"name": a.name, "key": a.key, "size": a.size, "sha256": a.sha256}
                for a in outcome.assets
                if a.outcome in ("mirrored", "already")
            ],
            "skipped_open": [a.name for a in outcome.assets if a.outcome == "skipped_open"],
        }

    # -- one asset --------------------------------------------------------------------------

    async def _asset(self, release: Release, asset: ReleaseAsset) -> AssetResult:
        base = AssetResult(tag=release.tag_name, name=asset.name, url=asset.browser_download_url,
                           key=None, size=asset.size, sha256=asset.sha256,
                           outcome="planned")  # fmt: skip
        try:
            key = asset_key(self.destination, self.layout, owner=self.repo.owner,
                            repo=self.repo.name, tag=release.tag_name, name=asset.name)  # fmt: skip
        except S3KitError as exc:
            return replace(base, outcome="failed", error=exc)
        try:
            return await self._mirror_asset(asset, key, base)
        except (BucketNotFound, CredentialsError):
            raise  # every other asset would meet it too
        except S3KitError as exc:
            return replace(base, key=key, outcome="failed", error=exc,
                           conflict=isinstance(exc, ConflictError))  # fmt: skip

    async def _mirror_asset(self, asset: ReleaseAsset, key: str,
                            base: AssetResult) -> AssetResult:  # fmt: skip
        where = f"s3://{self.destination.bucket}/{key}"
        if key in self.reserved:
            raise UsageError(
                f"release asset {asset.name!r} would go to {where}, where s3kit keeps its own"
                " record — choose another --layout"
            )
        if asset.state != "uploaded":
            return replace(
                base, key=key, outcome="skipped_open",
                note="still being uploaded to GitHub (state \"open\") — run the mirror again"
                " once it has finished",
            )  # fmt: skip
        # HEAD first, always: it lets a re-run skip the download, and it is the only guard on
        # stores that ignore If-None-Match (rclone serve s3).
        existing = await self._existing(key)
        step = decide_asset(asset, existing)
        if step == "already":
            return replace(base, key=key, outcome="already")
        if step == "conflict":
            raise self._conflict(asset, where, existing)
        if self.dryrun:
            note = "would upload" if step == "upload" else "would compare with the object there"
            return replace(base, key=key, outcome="planned", note=note)
        if step == "compare":
            assert existing is not None
            return await self._compare(asset, key, where, existing, base)
        downloaded = await self._download(asset)
        try:
            await self._upload(downloaded.path, key, asset, downloaded.sha256)
        except ConflictError:
            # Someone wrote the key between the HEAD and the upload: theirs stays.
            now = await self._existing(key)
            if now is not None and now.sha256 == downloaded.sha256:
                return replace(base, key=key, sha256=downloaded.sha256, outcome="already")
            raise self._conflict(asset, where, now, downloaded.sha256) from None
        finally:
            downloaded.path.unlink(missing_ok=True)
        return replace(base, key=key, sha256=downloaded.sha256, outcome="mirrored")

    async def _compare(
        self,
        asset: ReleaseAsset,
        key: str,
        where: str,
        existing: Existing,
        base: AssetResult,
    ) -> AssetResult:
        """Same size, one SHA-256 unknown: learn it from the bytes (the object's, read
        through; the asset's, downloaded and checked for size), then compare."""
        have = existing.sha256 or await self._object_sha256(key)
        want = asset.sha256
        if want is None:
            downloaded = await self._download(asset)
            downloaded.path.unlink(missing_ok=True)
            want = downloaded.sha256
        if compare_digests(want, have) == "conflict":
            raise self._conflict(asset, where, Existing(existing.size, have), want)
        return replace(base, key=key, sha256=want, outcome="already")

    async def _download(self, asset: ReleaseAsset) -> Downloaded:
        """The asset into the run's temporary folder, checked by the client against GitHub's
        size and digest (nothing is left there when it does not match)."""
        return await asyncio.to_thread(
            self.repo.download_release_asset, asset, self.workdir / str(asset.id)
        )

    async def _existing(self, key: str) -> Existing | None:
        try:
            return Existing.from_info(await self.storage.head_async(key))
        except ObjectNotFound:
            return None

    async def _object_sha256(self, key: str) -> str:
        """The SHA-256 of the object's bytes, read through (its metadata records none)."""
        digest = hashlib.sha256()
        async for chunk in self.storage.stream_async(key):
            digest.update(chunk)
        return digest.hexdigest()

    async def _upload(self, path: Path, key: str, asset: ReleaseAsset, sha256: str) -> None:
        """Create-only, whatever the size: `upload_file` is the transfer layer's one-file upload
        (what TransferManager runs per item, which takes no condition itself). Up to `big_asset`
        it is one PUT with If-None-Match: *; above, parts in parallel with If-None-Match on
        CompleteMultipartUpload, after a HEAD just before it (transfer.upload)."""
        from s3kit.transfer.context import TransferConfig, TransferContext, WriteOptions
        from s3kit.transfer.upload import Precondition, upload_file

        ctx = TransferContext(
            self.session,
            TransferConfig(multipart_threshold=self.big_asset + 1),
            WriteOptions(
                content_type=asset.content_type or None,
                metadata={SHA256_METADATA: sha256},
                preserve_mtime=False,  # the temporary file's time says nothing
            ),
        )
        try:
            await upload_file(
                ctx, path, S3Url(self.destination.bucket, key), lambda _n: None,
                size=asset.size, condition=Precondition(),
            )  # fmt: skip
        finally:
            ctx.close()

    def _conflict(
        self,
        asset: ReleaseAsset,
        where: str,
        existing: Existing | None,
        sha256: str | None = None,
    ) -> ConflictError:
        ours = asset.sha256 or sha256
        what = f"release asset {asset.name!r}"
        if existing is None:
            problem = f"{where} was written by someone else while {what} was uploaded"
        elif existing.size != asset.size:
            problem = f"{where} holds {existing.size} bytes where {what} has {asset.size}"
        else:
            problem = (
                f"{where} holds other bytes (sha256 {existing.sha256 or 'unknown'}) than {what}"
                f" (sha256 {ours or 'unknown'})"
            )
        return ConflictError(
            f"{problem}; not overwritten — remove the object, or mirror to another prefix"
        )

    # -- latest.json ----------------------------------------------------------------------------

    async def point_latest(self) -> None:
        result = self.result
        if not result.ok:
            result.latest_note = "not moved: an asset failed"
            return
        newest = latest_candidate(result.releases)
        if newest is None:
            result.latest_note = (
                "not moved: no full release (not a prerelease, every asset mirrored) in this run"
            )
            return
        key = latest_record_key(self.destination, self.repo.name)
        pointer = newest.pointer()
        current, etag = await self._read_latest(key)
        if not moves_latest(current, pointer):
            assert current is not None
            if current.tag != pointer.tag:
                result.latest_note = f"left at {current.tag}, a newer release"
            else:
                result.latest_tag = current.tag
            return
        if not self.dryrun:
            body = json.dumps(
                {
                    "repository": self.repo.slug,
                    "tag": newest.tag,
                    "name": newest.name,
                    "published_at": pointer.published_at or None,
                    "release_id": newest.release_id,
                    "release": newest.record_key,
                },
                indent=2,
            )
            try:
                await self.storage.put_async(
                    key, (body + "\n").encode(), content_type="application/json",
                    cache_control="no-cache", mode="create" if etag is None else "overwrite",
                    if_match=etag,
                )  # fmt: skip
            except ConflictError:
                result.latest_error = ConflictError(
                    f"s3://{self.destination.bucket}/{key} changed while this mirror ran (another"
                    " mirror?); left as it is — run the mirror again"
                )
                return
        result.latest_key = key
        result.latest_tag = newest.tag

    async def _read_latest(self, key: str) -> tuple[LatestPointer | None, str | None]:
        try:
            info = await self.storage.head_async(key)
            raw = await self.storage.get_async(key, if_match=info.etag)
        except ObjectNotFound:
            return None, None
        where = f"s3://{self.destination.bucket}/{key}"
        try:
            document = json.loads(raw)
            pointer = LatestPointer(
                str(document["tag"]), str(document.get("published_at") or ""),
                int(document["release_id"]),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError):
            raise ConflictError(
                f"{where} is not a latest.json s3kit wrote; left as it is — remove it, or mirror"
                " to another prefix"
            ) from None
        return pointer, info.etag


__all__ = [
    "BIG_ASSET",
    "AssetCallback",
    "mirror_releases",
    "mirror_releases_async",
]
