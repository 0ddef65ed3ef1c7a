"""Uploading media through the provider's Files API, once per content and account.

Planning decides which media parts to upload (``_media_policy``); the driver calls
``resolve`` before the first request (from a worker thread for async calls) and sends the
uploaded files by id instead. An upload is recorded in the store (``alloy._store``) under
the provider, its base URL, a one-way fingerprint of the account's key, the content's
SHA-256 and its media type, with the provider's expiry; the next call with the same content,
in this process or another, reuses it until it is within ``REUSE_MARGIN`` of expiring.
Concurrent calls with the same content upload once (a lease in the store).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import ConfigurationError
from ._messages import MediaPart
from ._messages import Message
from ._messages import Part
from ._messages import Request

if TYPE_CHECKING:
    from ._config import Config
    from ._media import Media
    from ._store import Store
    from ._store import Upload
    from .backends.base import Backend
    from .backends.base import Uploader

__all__ = ["EXPIRES_IN", "REUSE_MARGIN", "Uploaded", "find_uploader", "resolve"]

EXPIRES_IN = 7 * 24 * 3600
"""The expiry alloy asks for on every upload (where the API takes one): a week."""

REUSE_MARGIN = 3600.0
"""An uploaded file is reused only if it stays for at least this long (seconds) more."""

LEASE_TTL = 600.0
"""How long one caller may take to upload before another takes over (seconds)."""


@dataclass(frozen=True, slots=True)
class Uploaded:
    """The media of a call that were uploaded: ``id`` of the original → the file by id."""

    files: Mapping[int, Media]

    def apply(self, request: Request) -> Request:
        """``request`` with each uploaded medium sent by its file id."""
        if not self.files:
            return request
        return request.with_messages(tuple(self._message(m) for m in request.messages))

    def _message(self, message: Message) -> Message:
        parts = tuple(self._part(part) for part in message.parts)
        return Message(message.role, parts, message.provider_data)

    def _part(self, part: Part) -> Part:
        if isinstance(part, MediaPart):
            found = self.files.get(id(part.media))
            return part if found is None else MediaPart(found, part.name)
        return part

    def __bool__(self) -> bool:
        return bool(self.files)


def find_uploader(backend: Backend) -> Uploader | None:
    """The provider backend inside ``backend``'s wrappers, if it uploads media."""
    from ._inner import inner_with

    # The protocol's methods are looked up rather than ``isinstance``d (the core reaches the
    # backends package only through planning).
    found: Uploader | None = inner_with(backend, "upload", "upload_account")
    return found


def shared_store(cfg: Config) -> Store:
    """One open store per file, for the life of the process."""
    from ._store import shared

    return shared(cfg.store)


def resolve(parts: tuple[MediaPart, ...], backend: Backend, provider: str, cfg: Config) -> Uploaded:
    """Upload ``parts`` (or find their earlier uploads) and map them to files by id."""
    uploader = find_uploader(backend)
    if uploader is None:
        raise ConfigurationError(f"{provider}: this backend cannot upload media.")
    from ._store import UploadKey
    from ._store import find_upload
    from ._store import remember_upload
    from ._store import single_flight

    store = shared_store(cfg)
    family = provider.split("-", 1)[0]  # openai and openai-chat share OpenAI's files
    base_url, account = uploader.upload_account()
    files: dict[int, Media] = {}
    for part in parts:
        media = part.media
        sha256 = media.sha256
        assert sha256 is not None  # planning uploads inline media only
        key = UploadKey(family, base_url, account, sha256, media.media_type)

        def usable(key: UploadKey = key) -> Upload | None:
            return find_upload(store, key, now=time.time() + REUSE_MARGIN)

        def upload(key: UploadKey = key, media: Media = media) -> Upload:
            sent = uploader.upload(media, expires_in=EXPIRES_IN)
            return remember_upload(
                store,
                key,
                file_id=sent.file_id,
                size=media.size or 0,
                expires_at=sent.expires_at,
                metadata={"filename": media.filename},
            )

        found = single_flight(store, key.lease_name(), find=usable, produce=upload, ttl=LEASE_TTL)
        files[id(media)] = type(media).from_file_id(family, found.file_id, media.media_type)
    return Uploaded(files)
