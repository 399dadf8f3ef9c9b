import logging
import os
import uuid
from collections.abc import Iterator

import pyarrow.fs as pafs
import pytest
import torch

os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API on 127.0.0.1 (moto's server, in a thread of this process)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()  # returns once the server listens
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_store(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``s3://<new bucket>/store``, reached through pyarrow's S3 filesystem as any store is."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "tasray")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "tasray")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    bucket = f"tasray-{uuid.uuid4().hex[:12]}"
    filesystem, _ = pafs.FileSystem.from_uri(f"s3://{bucket}?allow_bucket_creation=true")
    filesystem.create_dir(bucket)
    return f"s3://{bucket}/store"
