"""docs/providers.md shows the capability matrix generated from the backends' data."""

import sys
from pathlib import Path

from alloy.backends import registered

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from capability_matrix import END  # noqa: E402
from capability_matrix import START  # noqa: E402
from capability_matrix import table  # noqa: E402
from capability_matrix import update_page  # noqa: E402

PAGE = ROOT / "docs" / "providers.md"


def test_page_matches_the_data() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert START in text and END in text
    fix = "regenerate: python scripts/capability_matrix.py docs/providers.md"
    assert update_page(text) == text, fix


def test_every_backend_declares_its_rows() -> None:
    for backend in registered():
        rows = table(backend)
        assert rows, backend
        assert all(isinstance(label, str) and label for label, _ in rows)
