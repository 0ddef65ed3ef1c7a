"""docs/providers.md shows the capability matrix generated from the backends' data."""

from pathlib import Path

from alloy.backends import registered
from alloy.backends._matrix import END, START, _table, update_page

PAGE = Path(__file__).resolve().parents[1] / "docs" / "providers.md"


def test_page_matches_the_data() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert START in text and END in text
    fix = "regenerate: python -m alloy.backends._matrix docs/providers.md"
    assert update_page(text) == text, fix


def test_every_backend_declares_its_rows() -> None:
    for backend in registered():
        rows = _table(backend)
        assert rows, backend
        assert all(isinstance(label, str) and label for label, _ in rows)
