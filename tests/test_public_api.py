import json
import subprocess
import sys

import alloy


def test_all_is_sorted_and_complete() -> None:
    assert alloy.__all__ == sorted(alloy.__all__)
    for name in alloy.__all__:
        assert hasattr(alloy, name), name
    spec_names = {
        "command", "ask", "configure", "use_config", "Config", "Result", "Usage",
        "Image", "Audio", "Document", "AlloyError", "ConfigurationError", "CapabilityError",
        "CommandError", "OutputValidationError", "ToolLoopLimitExceeded", "ToolError",
        "ProviderError", "AuthenticationError", "RateLimitError", "ProviderTimeout",
        "ProviderConnectionError", "StreamError", "RefusalError", "TruncatedOutputError",
        "Context",
    }  # fmt: skip
    assert spec_names <= set(alloy.__all__)


def test_import_alloy_imports_no_sdk_and_no_pydantic() -> None:
    code = (
        "import sys, json, alloy, alloy.testing\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    forbidden = {
        "openai",
        "anthropic",
        "google",
        "ollama",
        "httpx",
        "httpx2",
        "pydantic",
        "uvicorn",
        "sqlite3",  # the store is opened by the features that need it
        "genai_prices",  # the price table loads on the first Result.cost read
        "decimal",  # so does Cost
        "tqdm",  # a map draws its bar only when asked
        "asyncio",  # loaded by the async paths that use it
        "concurrent",  # map's threads start on first use
        "opentelemetry",  # alloy.telemetry imports it, and only alloy.telemetry
    }
    assert not (loaded & forbidden), loaded & forbidden


def test_error_tree() -> None:
    assert issubclass(alloy.CapabilityError, alloy.ConfigurationError)
    assert issubclass(alloy.OutputValidationError, alloy.CommandError)
    assert issubclass(alloy.ToolLoopLimitExceeded, alloy.CommandError)
    assert issubclass(alloy.RefusalError, alloy.CommandError)
    assert issubclass(alloy.TruncatedOutputError, alloy.CommandError)
    for cls in (
        alloy.AuthenticationError,
        alloy.RateLimitError,
        alloy.ProviderTimeout,
        alloy.ProviderConnectionError,
        alloy.StreamError,
        alloy.BatchItemNotRun,
    ):
        assert issubclass(cls, alloy.ProviderError)
    for cls in (alloy.ConfigurationError, alloy.CommandError, alloy.ToolError, alloy.ProviderError):
        assert issubclass(cls, alloy.AlloyError)


def test_register_type_loads_on_first_use() -> None:
    code = (
        "import sys, alloy\n"
        "assert 'alloy._parsers' not in sys.modules\n"
        "from alloy import register_type\n"
        "from alloy._parsers import register_type as defined\n"
        "assert register_type is defined and 'pydantic' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
