"""The store's schema migrations: every past version opens, migrates and keeps its data; a
newer version is refused; a failed step changes nothing; released steps never change."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest

from alloy import ConfigurationError
from alloy._store import MIGRATIONS
from alloy._store import SCHEMA_VERSION
from alloy._store import ContextCacheKey
from alloy._store import UploadKey
from alloy._store import connect
from alloy._store import find_context_cache
from alloy._store import find_response
from alloy._store import find_upload
from alloy._store import migrate
from alloy._store import open_store
from alloy._store._batches import find_job

# sha256 of each released step's statements, joined by "\n;\n". A step is never edited once
# released (stores in the field have applied it); add a new one, and its hash here.
RELEASED = {
    1: "9aa3f0b04bcc2701912d37c370cb6dba899fef065f45728f866f49412a427fa6",
    2: "d9471675b9e83a67e4f8003a43ed63d043b72899ecd764ad2980aa833d92e454",
    3: "cad7d532b62647b7147f24d02ed51cc2486a4ca17e8fa2ede142b2a83bb89739",
    4: "dfc3a9ef99f99d54dcc401c6377f67fca994b0611eeab5004835d28b8202f2a5",
    5: "61131b62a9dc32461d497c46867e5b62411ec92d32e985a94008341f13a91338",
}

KEY = UploadKey(
    "gemini", "https://generativelanguage.googleapis.com", "acct", "ab" * 32, "image/png"
)
CONTEXT = ContextCacheKey(
    "gemini", "https://generativelanguage.googleapis.com", "acct", "gemini-2.5-flash", "c" * 32, "i"
)


def store_at(path: Path, version: int) -> None:
    """A store file as the alloy that knew only the first ``version`` steps left it, holding
    what that alloy could hold."""
    conn = connect(path)
    try:
        assert migrate(conn, MIGRATIONS[:version]) == version
        if version >= 1:
            conn.execute(
                "INSERT INTO uploads (backend, base_url, account, sha256, media_type, file_id,"
                " uri, size, created_at, expires_at, metadata)"
                " VALUES (?, ?, ?, ?, ?, 'files/kept', 'https://x.test/files/kept', 7, 1.0,"
                ' NULL, \'{"state": "ACTIVE"}\')',
                (KEY.backend, KEY.base_url, KEY.account, KEY.sha256, KEY.media_type),
            )
        if version >= 3:
            conn.execute(
                "INSERT INTO context_caches (backend, base_url, account, model, context_key,"
                " identity, name, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'cachedContents/kept', 1.0, 4e9)",
                CONTEXT.values(),
            )
        if version >= 4:
            conn.execute(
                "INSERT INTO responses (key, provider, model, created_at, expires_at, body)"
                " VALUES ('k', 'openai', 'gpt-test', 1.0, NULL, '{\"text\": \"kept\"}')"
            )
        if version >= 5:
            conn.execute(
                "INSERT INTO batch_jobs VALUES ('ab_kept', NULL, 'openai', 'u', 'acct',"
                " 'gpt-test', 'cmd', 'schema', 'running', 1.0, 1.0, '{}')"
            )
    finally:
        conn.close()


def schema(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table and index with its columns (for tables) or SQL (for indexes)."""
    conn = sqlite3.connect(path)
    try:
        objects = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        found: dict[str, list[tuple[object, ...]]] = {}
        for kind, name, sql in objects:
            if kind == "table":
                found[name] = [tuple(c) for c in conn.execute(f"PRAGMA table_xinfo({name})")]
            else:
                found[name] = [(kind, sql)]
        return found
    finally:
        conn.close()


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        version: int = conn.execute("PRAGMA user_version").fetchone()[0]
        return version
    finally:
        conn.close()


@pytest.mark.parametrize("version", range(SCHEMA_VERSION + 1))
def test_every_past_version_migrates_to_the_current_schema_keeping_its_data(
    tmp_path: Path, version: int
) -> None:
    fresh = tmp_path / "fresh.db"
    open_store(fresh).close()
    old = tmp_path / f"v{version}.db"
    store_at(old, version)
    assert user_version(old) == version

    with open_store(old) as store:
        found = find_upload(store, KEY)
        cached = find_context_cache(store, CONTEXT)
        reply = find_response(store, "k")
        job = find_job(store, "ab_kept")
    assert user_version(old) == SCHEMA_VERSION
    assert (job.state if job else None) == ("running" if version >= 5 else None)
    assert (reply.body if reply else None) == ('{"text": "kept"}' if version >= 4 else None)
    assert (cached.name if cached else None) == ("cachedContents/kept" if version >= 3 else None)
    assert schema(old) == schema(fresh)
    if version >= 1:
        assert found is not None
        assert (found.file_id, found.uri, found.size) == (
            "files/kept",
            "https://x.test/files/kept",
            7,
        )
        assert found.metadata == {"state": "ACTIVE"}
    else:
        assert found is None


def test_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "alloy.db"
    open_store(path).close()
    found = schema(path)
    assert SCHEMA_VERSION == len(MIGRATIONS) == 5
    tables = ("uploads", "leases", "context_caches", "responses", "batch_jobs", "batch_parts")
    assert {name: [c[1] for c in found[name]] for name in tables} == {
        "uploads": [
            "backend", "base_url", "account", "sha256", "media_type", "file_id", "uri", "size",
            "created_at", "expires_at", "metadata",
        ],
        "leases": ["name", "owner", "expires_at"],
        "context_caches": [
            "backend", "base_url", "account", "model", "context_key", "identity", "name",
            "created_at", "expires_at",
        ],
        "responses": ["key", "provider", "model", "created_at", "expires_at", "body"],
        "batch_jobs": [
            "id", "name", "backend", "base_url", "account", "model", "command", "schema",
            "state", "created_at", "updated_at", "detail",
        ],
        "batch_parts": [
            "job_id", "part", "state", "marker", "provider_id", "files", "provider_state",
            "owner", "updated_at",
        ],
    }  # fmt: skip
    assert set(found) == {
        "uploads", "uploads_by_expiry", "leases", "context_caches", "context_caches_by_context",
        "responses", "responses_by_expiry", "batch_jobs", "batch_parts", "batch_items",
        "batch_jobs_by_state", "batch_items_by_key",
    }  # fmt: skip


def test_released_steps_never_change() -> None:
    hashes = {
        number: hashlib.sha256("\n;\n".join(step).encode()).hexdigest()
        for number, step in enumerate(MIGRATIONS, start=1)
    }
    assert hashes == RELEASED


def test_a_store_from_a_newer_alloy_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "alloy.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ConfigurationError, match=r"newer alloy wrote it\. Upgrade alloy"):
        open_store(path)
    assert user_version(path) == SCHEMA_VERSION + 1


def test_a_failing_step_leaves_the_store_at_the_version_before_it(tmp_path: Path) -> None:
    path = tmp_path / "alloy.db"
    open_store(path).close()
    broken = (*MIGRATIONS, ("CREATE TABLE half_done (x)", "THIS IS NOT SQL"))
    conn = connect(path)
    try:
        with pytest.raises(sqlite3.OperationalError):
            migrate(conn, broken)
        assert "half_done" not in schema(path)
        assert user_version(path) == SCHEMA_VERSION
        fixed = (*MIGRATIONS, ("CREATE TABLE half_done (x)",))
        assert migrate(conn, fixed) == SCHEMA_VERSION + 1
    finally:
        conn.close()


def test_opening_an_old_store_from_many_threads_at_once_migrates_it_once(tmp_path: Path) -> None:
    path = tmp_path / "alloy.db"
    store_at(path, 0)
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_it() -> None:
        start.wait()
        try:
            open_store(path).close()
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert user_version(path) == SCHEMA_VERSION


def test_opening_a_current_store_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "alloy.db"
    open_store(path).close()
    before = schema(path)
    open_store(path).close()
    assert schema(path) == before
    assert user_version(path) == SCHEMA_VERSION
