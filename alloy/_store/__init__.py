"""Alloy's embedded store: one SQLite file for what alloy remembers between calls and processes.

It holds uploaded-file records, so that a file goes to a provider once rather than on every
call; cached-context records, so that a context gets one provider cache (Gemini's cached
contents) per account and model; cached responses (the response cache), so that an
identical request is answered without a model call; and leases, so that concurrent uploads
or cache creations (from threads or processes) happen once. Batch jobs will share the file.

- ``_location``: which file (an argument, the ``store`` setting / ``ALLOY_STORE``, or a
  per-user data file).
- ``_schema``: the tables, as an ordered list of migration steps, and ``migrate``.
- ``_db``: opening the file (WAL, busy timeout, permissions) and ``Store``, its transactions.
- ``_uploads``: uploaded-file records, keyed by an account fingerprint, never by an API key.
- ``_contexts``: cached-context records, keyed the same way, plus the model and context.
- ``_responses``: cached replies as JSON, keyed by a digest of the request and its account.
- ``_leases``: leases and ``single_flight``, one caller at a time across processes.

JSON goes in as TEXT and nothing is pickled. ``import alloy._store`` does not load
``sqlite3``; opening a store does.
"""

from ._contexts import ContextCache as ContextCache
from ._contexts import ContextCacheKey as ContextCacheKey
from ._contexts import context_caches as context_caches
from ._contexts import find_context_cache as find_context_cache
from ._contexts import forget_context_cache as forget_context_cache
from ._contexts import remember_context_cache as remember_context_cache
from ._db import BUSY_TIMEOUT as BUSY_TIMEOUT
from ._db import Store as Store
from ._db import connect as connect
from ._db import open_store as open_store
from ._db import shared as shared
from ._leases import Lease as Lease
from ._leases import claim as claim
from ._leases import release as release
from ._leases import single_flight as single_flight
from ._location import default_path as default_path
from ._location import store_path as store_path
from ._responses import StoredResponse as StoredResponse
from ._responses import clear_responses as clear_responses
from ._responses import find_response as find_response
from ._responses import purge_expired_responses as purge_expired_responses
from ._responses import remember_response as remember_response
from ._responses import response_stats as response_stats
from ._schema import MIGRATIONS as MIGRATIONS
from ._schema import SCHEMA_VERSION as SCHEMA_VERSION
from ._schema import migrate as migrate
from ._uploads import Upload as Upload
from ._uploads import UploadKey as UploadKey
from ._uploads import account_fingerprint as account_fingerprint
from ._uploads import find_upload as find_upload
from ._uploads import forget_upload as forget_upload
from ._uploads import purge_expired as purge_expired
from ._uploads import remember_upload as remember_upload
