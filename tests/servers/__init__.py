"""The S3 servers the test session starts, each on free 127.0.0.1 ports inside a folder it is
given, each a context manager with `endpoint`, `access_key` and `secret_key`:

- `WeedMini`: `weed mini`, through s3kit's own LocalServer (the embedded default);
- `WeedServer`: `weed server -filer -s3`;
- `MotoServer`: moto's server mode;
- `RcloneS3`: `rclone serve s3` over a local folder;
- `ceph.CephRgw`: a real Ceph RGW, only when asked for (S3KIT_TEST_CEPH=1); imported lazily.

tests/conftest.py turns them into session fixtures.
"""

from tests.servers.base import Backend, LoopbackServer, ServerProcess
from tests.servers.moto import MotoServer
from tests.servers.rclone import RcloneS3
from tests.servers.seaweed import WeedMini, WeedServer

__all__ = [
    "Backend",
    "LoopbackServer",
    "MotoServer",
    "RcloneS3",
    "ServerProcess",
    "WeedMini",
    "WeedServer",
]
