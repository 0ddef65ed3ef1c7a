import inspect
from typing import Any

import pytest
from typing_extensions import TypedDict

from alloy import AsyncCommand
from alloy import Command
from alloy import ConfigurationError
from alloy import command


def test_style_one_body_returns_the_prompt() -> None:
    @command(output=int)
    def count(text: str) -> str:
        cleaned = text.strip()
        return f"Count the words in: {cleaned}"

    assert isinstance(count, Command)
    assert count.prompt("  a b c ") == "Count the words in: a b c"
    assert count.output_type is int


def test_style_two_docstring_template() -> None:
    @command
    def rate(product: str, scale: int = 5) -> int:
        """Rate {product} from 1 to {scale}. Literal {{braces}} stay."""

    assert rate.output_type is int
    assert rate.prompt("tea") == "Rate tea from 1 to 5. Literal {braces} stay."
    assert rate.prompt("tea", scale=10) == "Rate tea from 1 to 10. Literal {braces} stay."


def test_style_two_body_returning_str_wins_over_docstring() -> None:
    @command
    def pick(options: list[str]) -> str:
        """Documentation with {unrelated} braces is fine here."""
        return "Pick one of: " + ", ".join(options)

    assert pick.prompt(["a", "b"]) == "Pick one of: a, b"


def test_attribute_and_index_placeholders() -> None:
    @command
    def first(items: list[str]) -> str:
        """The first item is {items[0]}; there are {items.__len__} items."""

    assert first.prompt(["x"]).startswith("The first item is x;")


def test_placeholder_naming_no_parameter_fails_at_decoration() -> None:
    with pytest.raises(ConfigurationError, match=r"\{nmae\}.*names no parameter"):

        @command
        def greet(name: str) -> str:
            """Hello {nmae}"""


def test_positional_placeholder_fails_at_decoration() -> None:
    with pytest.raises(ConfigurationError, match="names no parameter"):

        @command
        def greet(name: str) -> str:
            """Hello {}"""


def test_empty_prompt_fails_at_decoration() -> None:
    with pytest.raises(ConfigurationError, match="empty prompt"):

        @command
        def nothing(x: int) -> int: ...


def test_empty_prompt_at_call_time() -> None:
    @command
    def blank(x: str) -> str:
        return x

    with pytest.raises(ConfigurationError, match="empty prompt"):
        blank.prompt("   ")


def test_non_str_body_return_is_explained() -> None:
    @command(output=int)
    def wrong(x: int) -> str:
        return x  # type: ignore[return-value]

    with pytest.raises(ConfigurationError, match="returned int, not the prompt"):
        wrong.prompt(3)


def test_output_with_non_str_annotation_fails_at_decoration() -> None:
    with pytest.raises(ConfigurationError, match="mismatch_fn"):

        @command(output=int)
        def mismatch_fn(x: int) -> float:  # type: ignore[type-var]
            return str(x)  # type: ignore[return-value]


def test_metadata_is_preserved() -> None:
    @command
    def documented(text: str, n: int = 2) -> list[str]:
        """Split {text} into {n} parts."""

    assert documented.__name__ == "documented"
    assert documented.__qualname__.endswith("documented")
    assert documented.__doc__ == "Split {text} into {n} parts."
    assert documented.__wrapped__ is not None
    assert str(inspect.signature(documented)) == "(text: str, n: int = 2) -> list[str]"


@command
def _later() -> "LaterType":
    """Make one."""


class LaterType(TypedDict):
    n: int


def test_forward_references_resolve_on_first_call() -> None:
    # LaterType did not exist when _later was decorated.
    assert _later.output_type is LaterType


async def test_async_command_prompt() -> None:
    @command
    async def slow(topic: str) -> str:
        return f"Write about {topic}"

    assert isinstance(slow, AsyncCommand)
    assert await slow.prompt("tea") == "Write about tea"


def test_wrong_arguments_are_a_type_error() -> None:
    @command
    def one(x: int) -> int:
        """Number {x}"""

    with pytest.raises(TypeError):
        one.prompt(1, 2)  # type: ignore[call-arg]


def test_media_arguments_show_as_placeholders_in_the_prompt() -> None:
    from alloy import Image

    @command
    def describe(picture: Image) -> str:
        """Describe {picture}."""
        ...

    png = Image.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(12 * 1024))
    assert describe.prompt(png) == "Describe <Image image/png 12 KB>."


def _doc_only() -> str:
    """Say {x}."""


def _doc_and_ellipsis() -> str:
    """Say {x}."""
    ...


def _only_pass() -> str:  # type: ignore[empty-body]
    pass


def _returns_text() -> str:
    """Say it."""
    return "say it"


def _calls_something() -> str:
    """Say it."""
    print("side effect")
    ...


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (_doc_only, True),
        (_doc_and_ellipsis, True),
        (_only_pass, True),
        (_returns_text, False),
        (_calls_something, False),
    ],
)
def test_docstring_only_bodies_are_recognised_on_this_python(fn: Any, expected: bool) -> None:
    # The check reads opcode names, which change between CPython versions: this pins it on
    # every Python the suite runs on (a miss would only delay the template check to call time).
    from alloy._prompt import is_bodyless

    assert is_bodyless(fn) is expected
