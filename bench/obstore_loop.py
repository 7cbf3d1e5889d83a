"""The bare-obstore baseline: the same requests as `s3kit cp --recursive`, with no s3kit code.

    python bench/obstore_loop.py upload LOCAL_DIR BUCKET PREFIX
    python bench/obstore_loop.py download BUCKET PREFIX LOCAL_DIR

Endpoint and keys come from S3KIT_ENDPOINT_URL, S3KIT_ACCESS_KEY_ID, S3KIT_SECRET_ACCESS_KEY.
It is the floor s3kit's own overhead is measured against.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import obstore
from obstore.store import S3Store

CONCURRENCY = 64


def _store(bucket: str) -> S3Store:
    return S3Store(
        bucket,
        endpoint=os.environ["S3KIT_ENDPOINT_URL"],
        access_key_id=os.environ["S3KIT_ACCESS_KEY_ID"],
        secret_access_key=os.environ["S3KIT_SECRET_ACCESS_KEY"],
        region="us-east-1",
        virtual_hosted_style_request=False,
        client_options={"allow_http": True, "pool_max_idle_per_host": "64"},
    )


async def upload(local: Path, bucket: str, prefix: str) -> None:
    store = _store(bucket)
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(path: Path) -> None:
        async with slots:
            key = prefix + path.relative_to(local).as_posix()
            await obstore.put_async(store, key, path)

    files = [p for p in local.rglob("*") if p.is_file()]
    await asyncio.gather(*(one(p) for p in files))


async def download(bucket: str, prefix: str, local: Path) -> None:
    store = _store(bucket)
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(key: str) -> None:
        async with slots:
            result = await obstore.get_async(store, key)
            target = local / key[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                async for chunk in result.stream():
                    out.write(chunk)

    if not prefix.endswith("/"):  # one object: keep its base name
        prefix, keys = prefix.rsplit("/", 1)[0] + "/", [prefix]
    else:
        keys = [
            str(meta["path"])
            async for page in obstore.list(store, prefix.rstrip("/"), chunk_size=1000)
            for meta in page
        ]
    await asyncio.gather(*(one(k) for k in keys))


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "upload":
        asyncio.run(upload(Path(args[0]), args[1], args[2]))
    else:
        asyncio.run(download(args[0], args[1], Path(args[2])))
    sys.stdout.flush()
    os._exit(0)  # skip interpreter finalisation, as the s3kit CLI does


if __name__ == "__main__":
    main()
