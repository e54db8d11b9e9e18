"""hash_stream / hash_file: the one hashing loop, for raw files, buffered files and other streams."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from noarkpack.hashing import CHUNK_SIZE, hash_file, hash_stream, sha256_file

SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 17]


def _expected(data: bytes, algorithms) -> dict[str, str]:
    return {a: hashlib.new(a, data).hexdigest() for a in algorithms}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("algorithms", [("sha256",), ("sha256", "sha512", "md5")])
def test_every_kind_of_stream_gives_the_digests_of_all_its_bytes(tmp_path: Path, size: int, algorithms) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    want = _expected(data, algorithms)
    assert hash_file(path, algorithms) == want
    with open(path, "rb", buffering=0) as raw:  # readinto into one buffer
        assert isinstance(raw, io.FileIO)
        assert hash_stream(raw, algorithms) == want
    with open(path, "rb") as buffered:  # read(chunk)
        assert hash_stream(buffered, algorithms, chunk_size=4096) == want
    assert hash_stream(io.BytesIO(data), algorithms) == want
    assert sha256_file(path) == want["sha256"]


def test_only_the_rest_of_the_stream_is_hashed(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"header" + b"body" * 1000)
    with open(path, "rb", buffering=0) as raw:
        raw.read(6)
        assert hash_stream(raw) == _expected(b"body" * 1000, ["sha256"])


def test_a_tar_member_is_hashed_from_its_stream(tmp_path: Path) -> None:
    data = b"dokument" * 300_000
    tar_path = tmp_path / "p.tar"
    with tarfile.open(tar_path, "w") as tar:
        info = tarfile.TarInfo("a/dok.pdf")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with tarfile.open(tar_path) as tar:
        member = tar.extractfile("a/dok.pdf")
        assert hash_stream(member, ("sha256", "sha512")) == _expected(data, ("sha256", "sha512"))


def test_digests_come_in_the_order_asked_and_unknown_algorithms_raise(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    assert list(hash_file(path, ["sha512", "sha256"])) == ["sha512", "sha256"]
    with pytest.raises(ValueError):
        hash_file(path, ["no-such-hash"])
