"""Errors, results and commands travel: ``pickle`` round trips (stdlib pickle only), with no
key in the pickled bytes."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import os
import pickle
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from alloy import AlloyError
from alloy import Audio
from alloy import BudgetExceeded
from alloy import Config
from alloy import Document
from alloy import Image
from alloy import MapResult
from alloy import Outcome
from alloy import OutputValidationError
from alloy import ProviderError
from alloy import RateLimitError
from alloy import Result
from alloy import Usage
from alloy import command
from alloy import tool
from alloy._cost import Cost
from alloy._messages import MediaPart
from alloy._messages import Message
from alloy._messages import ProviderData
from alloy._messages import TextPart
from alloy._messages import ToolCall
from alloy._messages import ToolResult
from alloy.testing import CassetteMiss  # noqa: F401  (an error class the test must see)
from alloy.testing import FakeBackend

KEY = "sk-alloypickle-0123456789abcdef"
PNG = b"\x89PNG\r\n\x1a\n" + b"pickle-marker-bytes" * 8


def _round(value: Any) -> Any:
    return pickle.loads(pickle.dumps(value))


# --- errors ----------------------------------------------------------------------------------

# A value for each constructor parameter of the error classes: a new class with a required
# parameter not named here fails the test below until it gets a sample.
SAMPLES: dict[str, Any] = {
    "message": "the provider said no",
    "provider": "openai",
    "status_code": 429,
    "request_id": "req_42",
    "retryable": True,
    "retry_after": 2.5,
    "feature": "audio input",
    "backend": "ollama",
    "model": "llama3.2",
    "hint": "Use a model that hears.",
    "expected": "Invoice",
    "raw_text": '{"total": "lots"}',
    "errors": [{"loc": ("total",), "msg": "not a number", "type": "float_parsing"}],
    "attempts": 3,
    "refusal": "I can't help with that.",
    "limit": 64,
    "reasoning_tokens": 40,
    "output_tokens": 64,
    "partial_text": "The invoice is from",
    "finish_reason": "length",
    "max_turns": 4,
    "turns_taken": 4,
    "path": Path("cassettes/test_x/test_y.json"),
    "mode": "none",
    "summary": {"provider": "openai", "model": "gpt-test", "prompt": "Hi", "tools": ["add"]},
    "why": "holds no reply",
    "state": "expired",
}


def _every_error_class() -> list[type[AlloyError]]:
    found: list[type[AlloyError]] = []
    todo: list[type[AlloyError]] = [AlloyError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: c.__name__)


def _example(cls: type[AlloyError]) -> AlloyError:
    params = [
        p
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if not params:  # Exception's own constructor: a message
        return cls("something failed", "and a second argument")
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in params:
        assert p.name in SAMPLES or p.default is not p.empty, (
            f"{cls.__name__}({p.name}=...) needs a value in SAMPLES"
        )
        value = SAMPLES.get(p.name, p.default)
        if p.kind is p.KEYWORD_ONLY:
            kwargs[p.name] = value
        else:
            args.append(value)
    return cls(*args, **kwargs)


def test_every_public_error_class_is_walked() -> None:
    import alloy._errors

    names = {c.__name__ for c in _every_error_class()}
    assert set(alloy._errors.__all__) <= names
    assert BudgetExceeded.__name__ in names  # public, defined beside the budgets


@pytest.mark.parametrize("cls", _every_error_class(), ids=lambda c: c.__name__)
def test_every_error_round_trips_with_its_message_and_attributes(cls: type[AlloyError]) -> None:
    error = _example(cls)
    back = _round(error)
    assert type(back) is cls
    assert str(back) == str(error)
    assert back.args == error.args
    assert vars(back) == vars(error)
    assert copy.copy(error).args == error.args  # copies take the same road


def test_error_attributes_survive_by_name() -> None:
    error = RateLimitError(
        "slow down", provider="anthropic", status_code=429, request_id="r1", retry_after=1.5
    )
    back = _round(error)
    assert (back.provider, back.status_code, back.request_id) == ("anthropic", 429, "r1")
    assert (back.retryable, back.retry_after) == (True, 1.5)
    assert str(back) == "anthropic: slow down (HTTP 429) [request id r1]"


def test_a_message_changed_after_the_error_was_made_is_kept() -> None:
    error = ProviderError("timed out", provider="openai")
    error.args = (f"{error.args[0]} Gave up after 3 attempts.",)
    error.add_note("while rating tea")
    back = _round(error)
    assert str(back) == "openai: timed out Gave up after 3 attempts."
    assert back.__notes__ == ["while rating tea"]


def test_a_message_scrubbed_after_the_error_was_made_leaves_nothing_behind() -> None:
    error = ProviderError(f"the server echoed {KEY}", provider="openai")
    error.args = (str(error).replace(KEY, "***"),)  # as the boundary scrubs a cause chain
    data = pickle.dumps(error)
    assert KEY.encode() not in data
    assert str(pickle.loads(data)) == "openai: the server echoed ***"


def test_a_validation_error_from_a_run_round_trips(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply(json={"sku": "A1", "price": "lots"})
    alloy_fake.add_reply(json={"sku": "A1", "price": "more"})
    with pytest.raises(OutputValidationError) as info:
        extract("A1")
    error = info.value
    back = _round(error)
    assert (back.expected, back.raw_text, back.attempts) == (
        error.expected,
        error.raw_text,
        2,
    )
    assert back.errors == error.errors != []
    assert str(back) == str(error)


class _KeyedSdkError(Exception):
    """Stands for an SDK exception holding a request with its headers; it does not pickle."""

    def __init__(self, headers: dict[str, str]):
        super().__init__("401 Unauthorized")
        self.headers = headers

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle the request")


def test_the_cause_is_dropped_so_its_key_never_travels() -> None:
    try:
        try:
            raise _KeyedSdkError({"authorization": f"Bearer {KEY}"})
        except _KeyedSdkError as sdk:
            raise ProviderError("bad key", provider="openai", status_code=401) from sdk
    except ProviderError as raised:
        error = raised
    assert error.__cause__ is not None
    data = pickle.dumps(error)
    assert KEY.encode() not in data
    back = pickle.loads(data)
    assert back.__cause__ is None
    assert back.__traceback__ is None
    assert str(back) == "openai: bad key (HTTP 401)"


# --- values: usage, cost, media, results -------------------------------------------------


def test_usage_round_trips_with_its_details() -> None:
    usage = Usage.of(120, 30, 100, 12, cache_write_tokens=4, details={"prompt.cached": 100})
    back = _round(usage)
    assert back == usage
    assert back.total_tokens == 150
    assert dict(back.details) == {"prompt.cached": 100}
    assert isinstance(back.details, MappingProxyType)  # still read-only
    assert _round(Usage()).details == {}


def test_cost_round_trips() -> None:
    cost = Cost(Decimal("0.0012"), Decimal("0.0010"), Decimal("0.0002"), "gpt-5", "genai-prices 1")
    assert _round(cost) == cost


@pytest.mark.parametrize(
    "media",
    [
        Image.from_bytes(PNG, detail="low"),
        Image.from_url("https://example.com/cat.png"),
        Audio.from_file_id("openai", "file-123", "audio/wav"),
        Document.from_bytes(b"# Notes", "text/markdown", filename="notes.md"),
    ],
    ids=["bytes", "url", "file", "document"],
)
def test_media_round_trip(media: Any) -> None:
    back = _round(media)
    assert type(back) is type(media)
    assert back == media
    assert repr(back) == repr(media)
    assert (back.source, back.filename, back.detail) == (media.source, media.filename, media.detail)


def test_a_path_backed_medium_stays_a_file(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    image = Image.from_path(path)
    assert image.data == PNG  # read once here, and kept
    data = pickle.dumps(image)
    assert b"pickle-marker-bytes" not in data  # the file is not in the pickle
    path.write_bytes(PNG + b"changed")
    back = pickle.loads(data)
    assert (back.source, back.path, back.media_type) == ("path", path, "image/png")
    assert back.data == PNG + b"changed"  # read where it is unpickled, when needed


@tool
def lookup(sku: str) -> dict[str, Any]:
    """Look up a product by SKU."""
    return {"sku": sku, "price": 3.5}


@dataclasses.dataclass
class Quote:
    sku: str
    price: float


@command(tools=[lookup])
def quote(sku: str, photo: Image) -> Quote:
    """Quote {sku} as in {photo}."""


def test_a_result_with_tool_traces_media_and_provider_data_round_trips(
    alloy_fake: FakeBackend,
) -> None:
    alloy_fake.add_reply(tool_calls=[("lookup", {"sku": "A1"})])
    alloy_fake.add_reply(
        json={"sku": "A1", "price": 3.5},
        usage=Usage.of(20, 8, details={"output_tokens_details.reasoning_tokens": 2}),
    )
    result = quote.run("A1", Image.from_bytes(PNG))
    signed = ProviderData("anthropic", {"signature": b"\x00sig", "blocks": [{"type": "x"}]})
    turn = Message(
        "assistant",
        (
            TextPart("thinking done"),
            ToolCall("c1", "lookup", '{"sku": "A1"}', provider_data=signed),
            ToolResult("c1", "lookup", (TextPart("see"), MediaPart(Image.from_bytes(PNG)))),
        ),
        provider_data=signed,
    )
    result = dataclasses.replace(
        result, messages=(*result.messages, turn), reasoning="I looked it up."
    )
    back = _round(result)
    assert isinstance(back, Result)
    assert back == result
    assert back.value == Quote("A1", 3.5)
    assert [(t.name, t.arguments, t.result) for t in back.tool_calls] == [
        ("lookup", {"sku": "A1"}, {"sku": "A1", "price": 3.5})
    ]
    assert dict(back.usage.details) == dict(result.usage.details) != {}
    assert back.messages[-1].provider_data == signed
    assert any(isinstance(p, MediaPart) for p in back.messages[0].parts)


# --- configs and commands --------------------------------------------------------------------


def test_a_config_round_trips() -> None:
    cfg = Config(
        model="anthropic:claude-sonnet-4-5",
        temperature=0.2,
        retry_on=(ValueError,),
        provider_options={"openai": {"base_url": "http://127.0.0.1:1/v1", "user": "u"}},
        wrappers=(FakeBackend,),
    )
    assert _round(cfg) == cfg


@pytest.mark.parametrize(
    "options",
    [
        {"openai": {"api_key": KEY}},
        {"anthropic": {"default_headers": {"x-api-key": KEY}}},
        {"ollama": {"headers": {"Authorization": f"Bearer {KEY}"}}},
        {"openai": {"base_url": f"https://user:{KEY}@proxy.example/v1"}},
    ],
    ids=["api_key", "header", "authorization", "url"],
)
def test_a_config_with_a_key_refuses_to_pickle(options: dict[str, Any]) -> None:
    cfg = Config(provider_options=options)
    with pytest.raises(pickle.PicklingError, match="environment") as info:
        pickle.dumps(cfg)
    assert KEY not in str(info.value)
    assert copy.deepcopy(cfg) == cfg  # copies stay in the process: they may keep the key
    assert copy.copy(cfg) is cfg


@command
def extract(text: str) -> Quote:
    """Extract the quote from: {text}"""


@command
async def extract_async(text: str) -> Quote:
    """Extract the quote from: {text}"""


class Clerk:
    def __init__(self, name: str) -> None:
        self.name = name

    @command
    def greet(self, customer: str) -> str:
        """{self.name} greets {customer}."""

    @staticmethod
    @command
    def motto(topic: str) -> str:
        """A motto about {topic}."""

    @classmethod
    @command
    def kind(cls, item: str) -> str:
        """What kind of {cls.__name__} sells {item}?"""


def _shadowed(text: str) -> str:
    """{text}"""
    return text


shadowing = command(_shadowed)  # the function's own name is still the function


def test_a_command_pickles_by_reference() -> None:
    data = pickle.dumps(extract)
    assert b"Extract the quote" not in data  # the function is not in the pickle
    assert _round(extract) is extract
    assert _round(extract_async) is extract_async
    assert _round(Clerk.motto) is Clerk.motto


def test_a_with_config_layer_travels_and_the_unpickled_command_works(
    alloy_fake: FakeBackend,
) -> None:
    fast = extract.with_config(temperature=0, max_tokens=50, system="Be brief.")
    back = _round(fast)
    assert back is not extract
    assert back._call_layer == fast._call_layer
    assert back.output_type is Quote
    alloy_fake.add_reply(json={"sku": "B2", "price": 1.0})
    assert back("B2 for 1.0") == Quote("B2", 1.0)
    sent = alloy_fake.requests[-1]
    assert (sent.temperature, sent.max_tokens, sent.system) == (0, 50, "Be brief.")


def test_commands_read_from_an_instance_or_a_class_keep_their_binding() -> None:
    greet = _round(Clerk("Ada").greet.with_config(temperature=0))
    assert greet.prompt("Bo") == "Ada greets Bo."
    assert _round(Clerk.kind).prompt("tea") == "What kind of Clerk sells tea?"


def test_a_command_made_inside_a_function_refuses_with_a_clear_message() -> None:
    @command
    def local(text: str) -> str:
        """{text}"""

    with pytest.raises(pickle.PicklingError, match="Define it at module level"):
        pickle.dumps(local)
    assert copy.deepcopy(local).prompt("hi") == "hi"  # copies do not need a name
    assert copy.copy(Clerk("Bo").greet).prompt("Cy") == "Bo greets Cy."
    with pytest.raises(pickle.PicklingError, match="is not this command"):
        pickle.dumps(shadowing)


def test_a_command_whose_layer_holds_a_key_refuses_and_says_where_keys_go() -> None:
    keyed = extract.with_config(provider_options={"openai": {"api_key": KEY}})
    with pytest.raises(pickle.PicklingError) as info:
        pickle.dumps(keyed)
    message = str(info.value)
    assert "command extract" in message and "api_key" in message and "OPENAI_API_KEY" in message
    assert KEY not in message


_MODULE = '''
from dataclasses import dataclass

from alloy import command


@dataclass
class Invoice:
    vendor: str
    total: float


@command
def extract_invoice(text: str) -> Invoice:
    """Extract the invoice from: {text}"""
'''

_CHILD = """
import pickle, sys
cmd = pickle.loads(bytes.fromhex(sys.argv[1]))
result = cmd.run("ACME, 12 euros")
sys.stdout.write(pickle.dumps((result, type(result.value).__name__, cmd._call_layer)).hex())
"""


def test_a_pickled_command_runs_in_another_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "invoices.py").write_text(textwrap.dedent(_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("invoices", None)  # another test's module of that name must not answer
    import invoices  # pyright: ignore[reportMissingImports]

    fast = invoices.extract_invoice.with_config(temperature=0, max_tokens=40)  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
    here = Path(__file__).resolve().parents[1]
    env = {**os.environ, "ALLOY_BACKEND": "fake"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(here)])
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, pickle.dumps(fast).hex()],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result, kind, layer = pickle.loads(bytes.fromhex(out.stdout))  # and back, with the result
    assert kind == "Invoice"
    assert layer == Config(temperature=0, max_tokens=40)
    assert isinstance(result.value, invoices.Invoice)  # pyright: ignore[reportUnknownMemberType]
    assert result.provider == "fake"
    assert result.usage.input_tokens is not None


def test_outcomes_and_map_results_round_trip() -> None:
    usage = Usage.of(input_tokens=3, output_tokens=2)
    result: Result[int] = Result(4, "4", usage, "m", "fake", "stop", (), 1, 0.1)
    failed = OutputValidationError("int", "four", [{"loc": (), "msg": "bad"}])
    mapped = MapResult((Outcome(0, "a", result), Outcome(1, "b", error=failed)), 0.5)
    back = pickle.loads(pickle.dumps(mapped))
    assert back[0] == mapped[0]  # errors compare by identity: the second is checked below
    assert (back[1].index, back[1].input, back.duration_s) == (1, "b", 0.5)
    assert isinstance(back.errors[1], OutputValidationError)
    assert back.values() == [4] and str(back.errors[1]) == str(failed)
    assert back.status == "partial" and back.usage == usage
