"""Memory does not grow with artifact size: every read of an artifact or a download streams.

The large case builds a wheel and an sdist carrying 256 MiB of incompressible data each (with
zipfile and tarfile directly, no backend), then checks, reads and downloads them in a child
process whose peak RSS (VmHWM, reset at its start) is compared before and after. The rest are small, exact
tests of the edges streaming introduces: a secret across a block boundary, a body cut short, a
server that trickles, an interrupt in the middle of a download.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasekit.dists import artifact
from releasekit.dists.artifact import SCAN_BLOCK, check_contents, describe, read_metadata
from releasekit.errors import BuildError, PackageIndexError
from releasekit.indexes.listing import IndexFile, download
from tests.support.dists import make_sdist, make_wheel

NAME, VERSION = "rk-big", "1.0.0"
LARGE = 256 << 20
METADATA = f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\nSummary: big\n"


_TRACKED = {"src/rk_big/__init__.py", "src/rk_big/data.bin"}


# -- a tiny file server on 127.0.0.1 ------------------------------------------------------------


class _Files(http.server.SimpleHTTPRequestHandler):
    """Serves a directory; /trickle/<n> sends n bytes one a second, /short/ lies about length."""

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path.startswith("/trickle/"):
            self.send_response(200)
            self.send_header("Content-Length", self.path.rsplit("/", 1)[1])
            self.end_headers()
            try:
                for _ in range(int(self.path.rsplit("/", 1)[1])):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                return
            return
        if self.path.startswith("/short/"):
            self.send_response(200)
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b"only part of it")
            return
        super().do_GET()


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, served directory) of an http.server in a thread, on a free loopback port."""
    served = tmp_path / "served"
    served.mkdir()

    def handler(*args: object, **kwargs: object) -> _Files:
        return _Files(*args, directory=str(served), **kwargs)  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()


def _entry(base: str, path: Path) -> IndexFile:
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.stat().st_size < (8 << 20) else None
    return IndexFile(path.name, digest, urllib.parse.urljoin(base, path.name))


# -- the large case ---------------------------------------------------------------------------

_CHILD = """
import json, sys
from pathlib import Path
from releasekit.dists import artifact
from releasekit.indexes import listing


def high_water_kb():
    # VmHWM, reset below: ru_maxrss would carry the parent's size over from before exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM")


Path("/proc/self/clear_refs").write_text("5")  # reset the peak resident size to the current one
wheel, sdist, base, dest, sha_w, sha_s = sys.argv[1:7]
tracked = set(json.loads(sys.argv[7]))
before = high_water_kb()
artifacts = [artifact.describe(Path(wheel)), artifact.describe(Path(sdist))]
artifact.check_contents(artifacts, tracked, secrets=["a-password-that-is-not-there"])
names = [artifact.read_metadata(a)["Name"] for a in artifacts]
for path, sha in ((wheel, sha_w), (sdist, sha_s)):
    name = Path(path).name
    entry = listing.IndexFile(name, sha, base + name)
    listing.download(entry, Path(dest), 60, expected_sha256=sha)
after = high_water_kb()
print(json.dumps({"before_kb": before, "after_kb": after, "names": names}))
"""


@pytest.mark.slow
def test_checking_reading_and_downloading_large_artifacts_keeps_memory_flat(
    tmp_path: Path, file_server: tuple[str, Path]
) -> None:
    base, served = file_server
    wheel, sdist = (
        make_wheel(served, NAME, VERSION, payload=LARGE),
        make_sdist(served, NAME, VERSION, payload=LARGE),
    )
    assert wheel.stat().st_size > LARGE and sdist.stat().st_size > LARGE  # incompressible indeed
    sha_w, sha_s = describe(wheel).sha256, describe(sdist).sha256
    dest = tmp_path / "downloads"
    dest.mkdir()

    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(wheel), str(sdist), base, str(dest), sha_w, sha_s,
         json.dumps(sorted(_TRACKED))],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr[-2000:]
    measured = json.loads(proc.stdout)
    growth_mb = (measured["after_kb"] - measured["before_kb"]) / 1024
    peak_mb = measured["after_kb"] / 1024
    print(f"child peak {peak_mb:.0f} MB, growth {growth_mb:.1f} MB over 2 x {LARGE >> 20} MiB artifacts")
    assert measured["names"] == [NAME, NAME]
    assert growth_mb < 32, f"memory grew by {growth_mb:.0f} MB while reading {LARGE >> 20} MiB artifacts"
    assert peak_mb < 100
    assert sorted(p.name for p in dest.iterdir()) == sorted([wheel.name, sdist.name])
    assert describe(dest / wheel.name).sha256 == sha_w


# -- scanning across block boundaries ---------------------------------------------------------

SECRET = "s3cret-Password-0f-the-index"
TOKEN = "pypi-" + "A" * 120


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
@pytest.mark.parametrize("offset", [1, len(SECRET) // 2, len(SECRET) - 1])
def test_a_registered_password_across_a_block_boundary_is_refused_unprinted(
    tmp_path: Path, kind: str, offset: int
) -> None:
    # The secret starts `offset` bytes before the end of the first block.
    text = b"#" * (SCAN_BLOCK - offset) + SECRET.encode() + b"\n" * 100
    art = describe(
        (make_wheel if kind == "wheel" else make_sdist)(tmp_path, NAME, VERSION, init=text, payload=0)
    )

    with pytest.raises(BuildError) as caught:
        check_contents([art], _TRACKED, secrets=[SECRET])

    shown = str(caught.value)
    assert "one of the credentials this release uses" in shown
    assert "rk_big/__init__.py" in shown
    assert SECRET not in shown and SECRET[:8] not in shown
    assert SECRET not in repr(caught.value.args)


def test_a_token_across_a_block_boundary_is_refused(tmp_path: Path) -> None:
    text = b"#" * (SCAN_BLOCK - 30) + TOKEN.encode()
    art = describe(make_wheel(tmp_path, NAME, VERSION, init=text, payload=0))

    with pytest.raises(BuildError) as caught:
        check_contents([art], _TRACKED)

    assert "shaped like a PyPI token" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_url_encoded_password_is_found_and_other_bytes_pass(tmp_path: Path) -> None:
    secret = "p@ss/word+with:odd chars"
    quoted = urllib.parse.quote(secret, safe="")
    art = describe(
        make_wheel(tmp_path, NAME, VERSION, init=f"URL = 'https://u:{quoted}@example.invalid/'\n", payload=0)
    )

    with pytest.raises(BuildError):
        check_contents([art], _TRACKED, secrets=[secret])
    check_contents([art], _TRACKED, secrets=["another-long-password"])
    check_contents([art], _TRACKED)


def test_the_untracked_file_check_still_comes_first_for_sdists(tmp_path: Path) -> None:
    art = describe(make_sdist(tmp_path, NAME, VERSION, init=SECRET, payload=0))

    with pytest.raises(BuildError) as caught:
        check_contents([art], {"src/rk_big/data.bin"}, secrets=[SECRET])

    assert "src/rk_big/__init__.py, which git does not track" in str(caught.value)


def test_metadata_larger_than_the_bound_is_refused(tmp_path: Path) -> None:
    dist = NAME.replace("-", "_")
    wheel = tmp_path / f"{dist}-{VERSION}-py3-none-any.whl"
    huge = METADATA + "\n" + "x" * (artifact.MAX_METADATA_BYTES + 1)
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{dist}-{VERSION}.dist-info/METADATA", huge)

    with pytest.raises(BuildError) as caught:
        read_metadata(describe(wheel))

    assert "more than the" in str(caught.value)
    assert read_metadata(describe(make_sdist(tmp_path, NAME, VERSION, payload=0)))["Name"] == NAME


# -- downloads that go wrong leave nothing behind -----------------------------------------------


def test_download_checks_the_expected_sha256_too(tmp_path: Path, file_server: tuple[str, Path]) -> None:
    base, served = file_server
    wheel = make_wheel(served, NAME, VERSION, payload=1 << 20)
    dest = tmp_path / "dest"
    dest.mkdir()

    with pytest.raises(PackageIndexError) as caught:
        download(_entry(base, wheel), dest, 10, expected_sha256="0" * 64)

    assert "not the 000" in str(caught.value)
    assert list(dest.iterdir()) == []
    assert (
        download(_entry(base, wheel), dest, 10, expected_sha256=describe(wheel).sha256) == dest / wheel.name
    )


def test_download_refuses_a_body_over_the_size_limit(tmp_path: Path, file_server: tuple[str, Path]) -> None:
    base, served = file_server
    wheel = make_wheel(served, NAME, VERSION, payload=1 << 20)
    dest = tmp_path / "dest"
    dest.mkdir()

    with pytest.raises(PackageIndexError) as caught:
        download(_entry(base, wheel), dest, 10, max_bytes=1000)

    assert "more than the 1,000 allowed" in str(caught.value)
    assert list(dest.iterdir()) == []


def test_a_body_cut_short_leaves_no_partial_file(tmp_path: Path, file_server: tuple[str, Path]) -> None:
    base, _ = file_server
    dest = tmp_path / "dest"
    dest.mkdir()

    with pytest.raises(PackageIndexError) as caught:
        download(IndexFile("rk_big-1.0.0.tar.gz", None, base + "short/x"), dest, 10)

    assert str(caught.value).startswith("cannot download rk_big-1.0.0.tar.gz")
    assert list(dest.iterdir()) == []


def test_the_timeout_bounds_the_whole_download_not_each_read(
    tmp_path: Path, file_server: tuple[str, Path]
) -> None:
    base, _ = file_server
    dest = tmp_path / "dest"
    dest.mkdir()
    start = time.monotonic()

    # One byte every half second never trips a per-read timeout of 1.5 s.
    with pytest.raises(PackageIndexError) as caught:
        download(IndexFile("rk_big-1.0.0.tar.gz", None, base + "trickle/100"), dest, 1.5)

    assert time.monotonic() - start < 4
    assert "took longer than the 1.5s timeout" in str(caught.value)
    assert list(dest.iterdir()) == []


def test_an_interrupted_download_leaves_no_partial_file(
    tmp_path: Path, file_server: tuple[str, Path]
) -> None:
    base, _ = file_server
    dest = tmp_path / "dest"
    dest.mkdir()
    code = (
        "import sys\nfrom pathlib import Path\nfrom releasekit.indexes import listing\n"
        "entry = listing.IndexFile('rk_big-1.0.0.tar.gz', None, sys.argv[1])\n"
        "listing.download(entry, Path(sys.argv[2]), 60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, base + "trickle/100", str(dest)], stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while not any(dest.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [p.name.endswith(".part") for p in dest.iterdir()] == [True]  # it is mid-download
        time.sleep(0.6)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=20)
    finally:
        child.kill()
    assert b"KeyboardInterrupt" in err
    assert list(dest.iterdir()) == []
