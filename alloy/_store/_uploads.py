"""Uploaded-file records: which provider file holds which bytes, for which account.

A record is keyed by ``UploadKey``: the backend, its base URL, the account (a one-way
fingerprint of the API key, never the key), the content's SHA-256 and its media type. It
keeps the provider's file id (and URI, where there is one), the size, when it was uploaded
and when the provider deletes it. Expired records are never returned.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from ._db import Store

__all__ = [
    "Upload",
    "UploadKey",
    "account_fingerprint",
    "find_upload",
    "forget_upload",
    "purge_expired",
    "remember_upload",
]

_ACCOUNT_SALT = b"alloy account fingerprint v1\x00"


def account_fingerprint(api_key: str, base_url: str) -> str:
    """A one-way name for the account that ``api_key`` reaches at ``base_url``.

    Records are keyed by it so that a file uploaded with one key is never offered to another
    account, without the key being stored. It is a salted SHA-256 (32 hex digits): the fixed
    salt keeps it from matching a plain hash of the key that another tool may have kept.
    """
    import hashlib

    data = _ACCOUNT_SALT + base_url.encode() + b"\x00" + api_key.encode()
    return hashlib.sha256(data).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class UploadKey:
    """What an uploaded file is filed under: where it lives, and what its bytes are.

    Attributes:
        backend: the backend name (``"openai"``, ``"gemini"``...).
        base_url: the API base URL the upload went to.
        account: ``account_fingerprint(api_key, base_url)``; never the key itself.
        sha256: hex SHA-256 of the file's bytes.
        media_type: the media type it was uploaded as.
    """

    backend: str
    base_url: str
    account: str
    sha256: str
    media_type: str

    def lease_name(self) -> str:
        """The ``single_flight`` name under which this file is uploaded."""
        import json

        return "upload:" + json.dumps(
            [self.backend, self.base_url, self.account, self.sha256, self.media_type]
        )


@dataclass(frozen=True, slots=True)
class Upload:
    """A remembered upload: the provider's name for the file, and until when it is valid.

    Attributes:
        key: what the file is filed under.
        file_id: the provider's file id (``file-...``, ``files/...``).
        size: the file's size in bytes.
        created_at: when it was uploaded, in Unix seconds.
        expires_at: when the provider deletes it, in Unix seconds; ``None`` if never.
        uri: the provider's URI for the file, where it has one besides the id (Gemini).
        metadata: anything else the backend keeps about it, as JSON.
    """

    key: UploadKey
    file_id: str
    size: int
    created_at: float
    expires_at: float | None
    uri: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict[str, Any], hash=False)


_KEY_WHERE = "backend = ? AND base_url = ? AND account = ? AND sha256 = ? AND media_type = ?"


def _key_values(key: UploadKey) -> tuple[str, str, str, str, str]:
    return (key.backend, key.base_url, key.account, key.sha256, key.media_type)


def remember_upload(
    store: Store,
    key: UploadKey,
    *,
    file_id: str,
    size: int,
    expires_at: float | None,
    uri: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> Upload:
    """Record that the file ``key`` was uploaded as ``file_id``, replacing an older record.

    ``metadata`` must be JSON-serialisable; it is stored as JSON text.
    """
    import json

    upload = Upload(
        key,
        file_id,
        size,
        time.time() if now is None else now,
        expires_at,
        uri,
        dict(metadata or {}),
    )
    text = json.dumps(upload.metadata, sort_keys=True, separators=(",", ":"))
    with store.transaction() as conn:
        # An upsert, not INSERT OR REPLACE: REPLACE deletes the old row first, which would
        # cascade to any table that comes to reference uploads.
        conn.execute(
            "INSERT INTO uploads (backend, base_url, account, sha256, media_type, file_id,"
            " uri, size, created_at, expires_at, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (backend, base_url, account, sha256, media_type) DO UPDATE SET"
            " file_id = excluded.file_id, uri = excluded.uri, size = excluded.size,"
            " created_at = excluded.created_at, expires_at = excluded.expires_at,"
            " metadata = excluded.metadata",
            (*_key_values(key), file_id, uri, size, upload.created_at, expires_at, text),
        )
    return upload


def find_upload(store: Store, key: UploadKey, *, now: float | None = None) -> Upload | None:
    """The record for ``key``, unless there is none or it has expired by ``now``.

    Pass a ``now`` ahead of the clock to leave a margin: a file that expires during the call
    that uses it is as good as gone.
    """
    import json

    at = time.time() if now is None else now
    with store.read() as conn:
        row = conn.execute(
            "SELECT file_id, size, created_at, expires_at, uri, metadata FROM uploads"
            f" WHERE {_KEY_WHERE} AND (expires_at IS NULL OR expires_at > ?)",
            (*_key_values(key), at),
        ).fetchone()
    if row is None:
        return None
    file_id, size, created_at, expires_at, uri, metadata = row
    return Upload(key, file_id, size, created_at, expires_at, uri, json.loads(metadata))


def forget_upload(store: Store, key: UploadKey) -> bool:
    """Delete the record for ``key``; whether there was one."""
    with store.transaction() as conn:
        gone = conn.execute(f"DELETE FROM uploads WHERE {_KEY_WHERE}", _key_values(key))
        return gone.rowcount > 0


def purge_expired(store: Store, now: float | None = None) -> int:
    """Delete the records expired by ``now``; how many there were."""
    at = time.time() if now is None else now
    with store.transaction() as conn:
        return conn.execute("DELETE FROM uploads WHERE expires_at <= ?", (at,)).rowcount
