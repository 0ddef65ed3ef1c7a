"""The embedded store: where it lives, how it is opened, uploaded-file records, leases and
single-flight across threads and processes, and what survives a process killed mid-write."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import alloy
from alloy import ConfigurationError
from alloy import _config
from alloy._store import SCHEMA_VERSION
from alloy._store import Store
from alloy._store import Upload
from alloy._store import UploadKey
from alloy._store import account_fingerprint
from alloy._store import claim
from alloy._store import default_path
from alloy._store import find_upload
from alloy._store import forget_upload
from alloy._store import open_store
from alloy._store import purge_expired
from alloy._store import release
from alloy._store import remember_upload
from alloy._store import single_flight
from alloy._store import store_path

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "sk-test-Zq81xV3mW0pLr5TyKc2eNb7HuJd4"
BASE_URL = "https://api.openai.com/v1"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions and signals")


def key(
    sha: str = "ab" * 32, media_type: str = "application/pdf", api_key: str = API_KEY
) -> UploadKey:
    return UploadKey("openai", BASE_URL, account_fingerprint(api_key, BASE_URL), sha, media_type)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "alloy.db") as opened:
        yield opened


def run_python(code: str, *args: str) -> subprocess.Popen[str]:
    """``code`` in a fresh interpreter that imports this checkout's alloy."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# --- where the file is ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {"XDG_DATA_HOME": "/data/me"}, "/data/me/alloy/alloy.db"),
        ("linux", {}, "~/.local/share/alloy/alloy.db"),
        ("linux", {"XDG_DATA_HOME": "relative/dir"}, "~/.local/share/alloy/alloy.db"),
        ("darwin", {"XDG_DATA_HOME": "/ignored"}, "~/Library/Application Support/alloy/alloy.db"),
        ("win32", {"LOCALAPPDATA": "/appdata/local"}, "/appdata/local/alloy/alloy.db"),
        ("win32", {}, "~/AppData/Local/alloy/alloy.db"),
    ],
)
def test_default_path_is_the_platform_data_directory(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    platform: str,
    env: dict[str, str],
    expected: str,
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_DATA_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "platform", platform)
    assert default_path() == Path(expected.replace("~", str(tmp_path)))


def test_path_precedence_argument_then_setting_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert store_path() == tmp_path / "data" / "alloy" / "alloy.db"
    monkeypatch.setenv("ALLOY_STORE", str(tmp_path / "env.db"))
    assert store_path() == tmp_path / "data" / "alloy" / "alloy.db"  # the environment is read once
    _config.reset_configuration()
    assert store_path() == tmp_path / "env.db"
    alloy.configure(store=tmp_path / "configured.db")
    assert store_path() == tmp_path / "configured.db"
    with alloy.use_config(store=str(tmp_path / "scoped.db")):
        assert store_path() == tmp_path / "scoped.db"
        assert store_path(tmp_path / "given.db") == tmp_path / "given.db"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert store_path("~/home.db") == tmp_path / "home.db"


def test_the_store_setting_must_be_a_path() -> None:
    with pytest.raises(ConfigurationError, match="store"):
        alloy.configure(store=3)


def test_open_store_uses_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALLOY_STORE", str(tmp_path / "from-env.db"))
    _config.reset_configuration()
    with open_store() as opened:
        assert opened.path == tmp_path / "from-env.db"
    assert (tmp_path / "from-env.db").exists()


# --- opening ----------------------------------------------------------------------------------


def test_connections_use_wal_a_busy_timeout_normal_sync_and_foreign_keys(store: Store) -> None:
    with store.read() as conn:
        pragmas = {
            name: conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "busy_timeout", "synchronous", "foreign_keys")
        }
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 10_000,
        "synchronous": 1,
        "foreign_keys": 1,
    }


@posix_only
def test_the_directory_and_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "made" / "here" / "alloy.db"
    with open_store(path) as opened:
        remember_upload(opened, key(), file_id="file-1", size=1, expires_at=None)
        modes = {
            p.name: stat.S_IMODE(p.stat().st_mode)
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
        }
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert modes == {"alloy.db": 0o600, "alloy.db-wal": 0o600, "alloy.db-shm": 0o600}


def test_a_file_that_is_not_a_store_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the bytes of a database, " * 100)
    with pytest.raises(ConfigurationError, match=r"Cannot open the alloy store at .*notes\.db"):
        open_store(path)
    with pytest.raises(ConfigurationError, match="Cannot open"):
        open_store(tmp_path)  # a directory


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    opened = open_store(tmp_path / "alloy.db")
    opened.close()
    with pytest.raises(ConfigurationError, match="closed"):
        find_upload(opened, key())


def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    def write_then_fail() -> None:
        with store.transaction() as conn:
            conn.execute("INSERT INTO leases VALUES ('x', 'me', 1e12)")
            raise RuntimeError("midway")

    with pytest.raises(RuntimeError, match="midway"):
        write_then_fail()
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM leases").fetchone()[0] == 0


def test_threads_share_a_store(store: Store) -> None:
    def write(n: int) -> None:
        for i in range(25):
            remember_upload(
                store, key(f"{n:02d}{i:062d}"), file_id=f"f{n}-{i}", size=i, expires_at=None
            )

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM uploads").fetchone()[0] == 200


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_uses_a_connection_of_its_own(store: Store) -> None:
    remember_upload(store, key("01" * 32), file_id="file-parent", size=1, expires_at=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking a threaded process, 3.12+
        pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            if find_upload(store, key("01" * 32)) is not None:
                remember_upload(
                    store, key("02" * 32), file_id="file-child", size=1, expires_at=None
                )
                code = 0 if len(store._inherited) == 1 else 2  # the parent's, set aside unused
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    found = find_upload(store, key("02" * 32))  # and the parent's connection still works
    assert found is not None
    assert found.file_id == "file-child"


def test_import_alloy_does_not_load_sqlite3(tmp_path: Path) -> None:
    code = """
        import json, sys, alloy, alloy._store
        before = "sqlite3" in sys.modules or "_sqlite3" in sys.modules
        alloy._store.open_store(sys.argv[1]).close()
        print(json.dumps([before, "sqlite3" in sys.modules]))
    """
    out, err = run_python(code, str(tmp_path / "alloy.db")).communicate(timeout=60)
    assert json.loads(out) == [False, True], err


# --- uploaded files ---------------------------------------------------------------------------


def test_remember_find_and_forget_an_upload(store: Store) -> None:
    stored = remember_upload(
        store,
        key(),
        file_id="files/abc",
        uri="https://example.test/files/abc",
        size=1234,
        expires_at=2000.0,
        metadata={"state": "ACTIVE", "names": ["a.pdf"]},
        now=1000.0,
    )
    assert stored == Upload(
        key(), "files/abc", 1234, 1000.0, 2000.0, "https://example.test/files/abc",
        {"state": "ACTIVE", "names": ["a.pdf"]},
    )  # fmt: skip
    assert find_upload(store, key(), now=1500.0) == stored
    assert forget_upload(store, key()) is True
    assert find_upload(store, key(), now=1500.0) is None
    assert forget_upload(store, key()) is False


def test_remembering_again_replaces_the_record(store: Store) -> None:
    remember_upload(store, key(), file_id="file-old", size=1, expires_at=10.0, now=0.0)
    remember_upload(store, key(), file_id="file-new", size=1, expires_at=None, now=20.0)
    found = find_upload(store, key(), now=30.0)
    assert found is not None
    assert (found.file_id, found.created_at, found.expires_at) == ("file-new", 20.0, None)


def test_every_part_of_the_key_counts(store: Store) -> None:
    remember_upload(store, key(), file_id="file-1", size=1, expires_at=None)
    assert find_upload(store, key()) is not None
    other_account = key(api_key="sk-someone-else")
    assert find_upload(store, other_account) is None
    assert find_upload(store, key(media_type="image/png")) is None
    assert find_upload(store, key("cd" * 32)) is None
    elsewhere = UploadKey(
        "openai", "http://localhost:8000/v1", key().account, "ab" * 32, "application/pdf"
    )
    assert find_upload(store, elsewhere) is None


def test_expired_records_are_ignored_and_purged(store: Store) -> None:
    remember_upload(store, key("01" * 32), file_id="file-a", size=1, expires_at=100.0, now=0.0)
    remember_upload(store, key("02" * 32), file_id="file-b", size=1, expires_at=200.0, now=0.0)
    remember_upload(store, key("03" * 32), file_id="file-c", size=1, expires_at=None, now=0.0)
    assert find_upload(store, key("01" * 32), now=99.0) is not None
    assert find_upload(store, key("01" * 32), now=100.0) is None  # expired at its expiry time
    assert find_upload(store, key("03" * 32), now=1e12) is not None
    assert purge_expired(store, now=150.0) == 1
    assert purge_expired(store, now=150.0) == 0
    with store.read() as conn:
        left = sorted(r[0] for r in conn.execute("SELECT file_id FROM uploads"))
    assert left == ["file-b", "file-c"]


def test_metadata_is_stored_as_json_text(store: Store) -> None:
    remember_upload(
        store,
        key(),
        file_id="file-1",
        size=1,
        expires_at=None,
        metadata={"b": 1, "a": [True, None]},
    )
    with store.read() as conn:
        kind, text = conn.execute("SELECT typeof(metadata), metadata FROM uploads").fetchone()
    assert (kind, text) == ("text", '{"a":[true,null],"b":1}')
    with pytest.raises(TypeError):
        remember_upload(
            store, key(), file_id="file-1", size=1, expires_at=None, metadata={"x": object()}
        )


def test_account_fingerprint_is_stable_one_way_and_per_base_url() -> None:
    first = account_fingerprint(API_KEY, BASE_URL)
    assert first == account_fingerprint(API_KEY, BASE_URL)
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != account_fingerprint(API_KEY, "http://localhost:8000/v1")
    assert first != account_fingerprint(API_KEY + "x", BASE_URL)
    assert API_KEY not in first and API_KEY[-8:] not in first


def test_the_file_never_contains_the_api_key(tmp_path: Path) -> None:
    path = tmp_path / "alloy.db"
    opened = open_store(path)
    for i in range(20):
        remember_upload(
            opened,
            key(f"{i:064d}"),
            file_id=f"file-{i}",
            size=i,
            expires_at=None,
            metadata={"n": i},
        )
    claim(opened, key().lease_name(), ttl=60)
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    contents = b"".join(p.read_bytes() for p in files if p.exists())
    opened.close()
    contents += path.read_bytes()  # after the checkpoint that closing makes
    assert b"file-19" in contents  # the records are there to be found...
    for needle in (API_KEY, API_KEY[3:], API_KEY[-12:]):  # ...the key, in any part, is not
        assert needle.encode() not in contents


# --- leases and single flight -----------------------------------------------------------------


def test_a_lease_has_one_holder_until_it_is_released_or_lapses(store: Store) -> None:
    first = claim(store, "job", ttl=10, now=100.0)
    assert first is not None
    assert first.expires_at == 110.0
    assert claim(store, "job", ttl=10, now=109.9) is None
    assert claim(store, "other", ttl=10, now=109.9) is not None
    taken_over = claim(store, "job", ttl=10, now=110.0)
    assert taken_over is not None
    assert taken_over.owner != first.owner
    assert release(store, first) is False  # the lapsed holder cannot free its successor's lease
    assert claim(store, "job", ttl=10, now=111.0) is None
    assert release(store, taken_over) is True
    assert claim(store, "job", ttl=10, now=111.0) is not None
    with pytest.raises(ValueError, match="ttl"):
        claim(store, "job", ttl=0)


def test_single_flight_across_threads_produces_once(tmp_path: Path) -> None:
    path = tmp_path / "alloy.db"
    produced: list[int] = []
    results: list[str] = []

    def upload(store: Store) -> None:
        def produce() -> Upload:
            produced.append(1)
            time.sleep(0.1)  # an upload in flight while the others arrive
            return remember_upload(store, key(), file_id="file-once", size=1, expires_at=None)

        found = single_flight(
            store, key().lease_name(), ttl=30, poll=0.01,
            find=lambda: find_upload(store, key()), produce=produce,
        )  # fmt: skip
        results.append(found.file_id)

    stores = [open_store(path) for _ in range(3)]  # threads on shared and separate connections
    threads = [threading.Thread(target=upload, args=(stores[n % 3],)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert produced == [1]
    assert results == ["file-once"] * 12


SINGLE_FLIGHT_CHILD = """
    import sys, time
    from alloy._store import UploadKey, find_upload, open_store, remember_upload, single_flight

    path, log = sys.argv[1], sys.argv[2]
    key = UploadKey("openai", "https://api.openai.com/v1", "acct", "ab" * 32, "application/pdf")
    store = open_store(path)

    def produce():
        with open(log, "a") as f:
            f.write("uploaded\\n")
        time.sleep(0.3)
        return remember_upload(store, key, file_id="file-from-one-process", size=1, expires_at=None)

    found = single_flight(
        store, key.lease_name(), ttl=30, poll=0.01,
        find=lambda: find_upload(store, key), produce=produce,
    )
    print(found.file_id)
"""


def test_single_flight_across_processes_produces_once(tmp_path: Path) -> None:
    path, log = tmp_path / "alloy.db", tmp_path / "uploads.log"
    open_store(path).close()  # created up front, so the processes race on the lease only
    children = [run_python(SINGLE_FLIGHT_CHILD, str(path), str(log)) for _ in range(3)]
    outputs = [child.communicate(timeout=60) for child in children]
    assert [c.returncode for c in children] == [0] * 3, outputs
    assert [out.strip() for out, _ in outputs] == ["file-from-one-process"] * 3
    assert log.read_text() == "uploaded\n"


def test_single_flight_releases_the_lease_when_produce_fails(store: Store) -> None:
    def fail() -> str:
        raise OSError("upload failed")

    with pytest.raises(OSError, match="upload failed"):
        single_flight(store, "job", find=lambda: None, produce=fail, ttl=30)
    assert single_flight(store, "job", find=lambda: None, produce=lambda: "done", ttl=30) == "done"


def test_single_flight_takes_over_a_lapsed_lease(store: Store) -> None:
    stuck = claim(store, "job", ttl=0.3)  # a holder that never finishes
    assert stuck is not None
    started = time.time()
    assert (
        single_flight(store, "job", find=lambda: None, produce=lambda: "mine", ttl=30, poll=0.01)
        == "mine"
    )
    assert time.time() >= stuck.expires_at > started


# --- crash safety ----------------------------------------------------------------------------

CRASHING_CHILD = """
    import sys, time
    from alloy._store import UploadKey, claim, open_store, remember_upload

    path, ttl = sys.argv[1], float(sys.argv[2])
    key = UploadKey("openai", "https://api.openai.com/v1", "acct", "ab" * 32, "application/pdf")
    store = open_store(path)
    lease = claim(store, key.lease_name(), ttl=ttl)
    remember_upload(store, key, file_id="file-committed", size=1, expires_at=None)
    with store.transaction() as conn:
        conn.execute("PRAGMA cache_size = 2")  # spill uncommitted pages into the WAL file
        for i in range(400):
            conn.execute(
                "INSERT INTO uploads VALUES ('openai', 'u', 'acct', ?, 'x', 'file-pending',"
                " NULL, 1, 0, NULL, ?)",
                (str(i), '{"pad": "%s"}' % ("x" * 2000)),
            )
        print(lease.expires_at, flush=True)
        time.sleep(60)
"""


@posix_only
def test_a_process_killed_mid_transaction_holding_a_lease(tmp_path: Path) -> None:
    path = tmp_path / "alloy.db"
    child = run_python(CRASHING_CHILD, str(path), "0.5")
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line, child.communicate(timeout=10)
    lease_expires = float(line)
    assert Path(f"{path}-wal").stat().st_size > 100_000  # the open transaction wrote pages
    os.kill(child.pid, signal.SIGKILL)
    child.communicate(timeout=10)

    with open_store(path) as store:
        with store.read() as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            ids = [r[0] for r in conn.execute("SELECT file_id FROM uploads")]
        assert ids == ["file-committed"]  # committed work kept, the open transaction gone
        name = UploadKey("openai", BASE_URL, "acct", "ab" * 32, "application/pdf").lease_name()
        assert (
            claim(store, name, ttl=30, now=lease_expires - 0.01) is None
        )  # still the dead holder's
        produced = single_flight(
            store, name, find=lambda: None, produce=time.time, ttl=30, poll=0.01
        )
        assert produced >= lease_expires  # taken over once its ttl ran out, not before
        remember_upload(store, key(), file_id="file-after", size=1, expires_at=None)
        assert find_upload(store, key()) is not None
