"""What a service call needs to know about where it runs: data directory, region, account."""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

DEFAULT_REGION = "us-east-1"
# botocore's rule for region names. A region names a folder of the data directory, so this
# check is what keeps `--region ../x` from reaching outside it.
REGION_PATTERN = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?$")


class InvalidRegionError(ValueError):
    """A region name botocore would refuse; the CLI reports it as a general error (255)."""

    def __init__(self, region: str):
        super().__init__(f"Provided region_name '{region}' doesn't match a supported format.")
# The account id printed in ARNs. There is no AWS account behind rekcli; a fixed, obviously
# local id keeps ARNs well formed and stable across runs.
LOCAL_ACCOUNT_ID = "000000000000"


def default_data_dir() -> Path:
    """`$REKCLI_DATA_DIR`, else `${XDG_DATA_HOME:-~/.local/share}/rekcli`."""
    explicit = os.environ.get("REKCLI_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(xdg) / "rekcli"


def default_s3_root() -> Path | None:
    """`$REKCLI_S3_ROOT`: the folder whose sub-folders stand in for S3 buckets."""
    root = os.environ.get("REKCLI_S3_ROOT")
    return Path(root).expanduser() if root else None


@dataclass
class ServiceContext:
    """Per-process settings of the local service. Cheap to build; opens nothing."""

    region: str = DEFAULT_REGION
    data_dir: Path = field(default_factory=default_data_dir)
    s3_root: Path | None = field(default_factory=default_s3_root)
    aws_profile: str | None = None  # --profile: whose credentials read S3Object images
    # S3 objects a caller already downloaded, (Bucket, Name) -> bytes: a folder job's worker
    # reads an object once for its skip check and the operation then uses those bytes.
    fetched_s3_objects: dict = field(default_factory=dict)
    account_id: str = LOCAL_ACCOUNT_ID
    clock: Callable[[], float] = time.time
    # Where the store's one-time notices go (e.g. "made the store private"). The store never
    # prints; by default they go to stderr (never stdout, which is data), a caller may
    # collect them instead.
    notify: Callable[[str], None] = field(default=lambda message: print(message,
                                                                         file=sys.stderr))

    def __post_init__(self):
        if not REGION_PATTERN.match(self.region or ""):
            raise InvalidRegionError(self.region)

    @property
    def region_dir(self) -> Path:
        """Collections are per region, like AWS: one folder per region under the data dir."""
        return self.data_dir / self.region

    def collection_arn(self, collection_id: str) -> str:
        return f"arn:aws:rekognition:{self.region}:{self.account_id}:collection/{collection_id}"
