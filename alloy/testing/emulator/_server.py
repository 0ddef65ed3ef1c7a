"""``Emulator``: the app served by uvicorn on a loopback port, in a daemon thread."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from types import TracebackType
from typing import Any

from ._app import EmulatorApp
from ._exchange import quiet_uvicorn
from ._proxy import Proxy
from ._routing import valid_scenario_name
from ._scenario import Scenario
from ._state import Registry

__all__ = ["Emulator"]

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


def _uvicorn() -> Any:
    # Imported here so that scripting a remote emulator (``RemoteEmulator``) needs no server.
    try:
        import uvicorn
    except ImportError:
        from ..._errors import ConfigurationError
        from ..._install import install_hint

        raise ConfigurationError(
            f"The emulator serves HTTP with uvicorn, which is not installed: "
            f"{install_hint('testing')}"
        ) from None
    return uvicorn


class Emulator(Scenario):
    """A loopback server speaking provider wire formats, for the real SDKs to call.

    Use it as a context manager (or ``start()``/``stop()``). It acts as its own default
    scenario (served without a path prefix); ``scenario()`` makes isolated ones. With
    ``strict=True`` an empty queue answers 400 "emulator: no scripted reply left" instead of
    ``Reply(text="ok")``. The ASGI app is available as ``app`` for zero-socket use.

    With ``proxy_to`` (a provider's base URL, such as ``https://api.openai.com``) it answers
    nothing itself: every request is forwarded there, below the same prefixes (``base_url``
    works as usual), and the answer relayed as it arrives; ``requests`` still logs them.
    With ``record`` too, each exchange is written to that file, credentials left out, in
    the format ``load_recording`` reads; ``start()`` writes it empty (replacing any file
    there), and it is complete again after every exchange. The
    upstream gets ``upstream_timeout`` seconds to connect, to answer, and between two reads
    of its answer.
    """

    def __init__(
        self,
        strict: bool = False,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        proxy_to: str | None = None,
        record: str | os.PathLike[str] | None = None,
        upstream_timeout: float = 600.0,
    ) -> None:
        if record is not None and proxy_to is None:
            raise ValueError("record= needs proxy_to=: only a proxy has traffic to record")
        self._registry = Registry(strict)
        self._proxy = (
            None if proxy_to is None else Proxy(proxy_to, timeout=upstream_timeout, record=record)
        )
        self.app = EmulatorApp(self._registry, self._proxy)
        super().__init__(self._registry.default, self._root_url, "")
        self._host = host
        self._port = port
        self._address: tuple[str, int] | None = None
        self._socket: socket.socket | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def strict(self) -> bool:
        """Whether an empty queue is an error (see ``set_default``)."""
        return self._registry.strict

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._thread is not None

    def _root_url(self) -> str:
        if self._address is None:
            raise RuntimeError("the emulator is not running; call start() first")
        host, port = self._address
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        """Bind the port and serve in a daemon thread; returns once it accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        uvicorn = _uvicorn()
        quiet_uvicorn()
        recorder = self._proxy.recorder if self._proxy is not None else None
        if recorder is not None:
            recorder.start()
        self.app.reopen()
        # IPPROTO_TCP, not 0: asyncio enables TCP_NODELAY on accepted connections only when
        # the listening socket says so, and without it every small response waits ~40 ms for
        # the client's delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            if self._port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
            sock.listen(4096)
        except BaseException:
            sock.close()
            raise
        config = uvicorn.Config(
            self.app,
            http="h11",
            ws="none",
            loop="asyncio",
            lifespan="off",
            interface="asgi3",
            access_log=False,
            log_config=None,
            backlog=4096,
            # Long keep-alive: with uvicorn's 5 s default, pooled client connections race
            # the server closing them and the SDKs silently retry.
            timeout_keep_alive=120,
            timeout_graceful_shutdown=2,
            server_header=False,
            # A proxy relays the upstream's own date.
            date_header=self._proxy is None,
            proxy_headers=False,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=self._serve, args=(server, sock), name="alloy-emulator", daemon=True
        )
        self._failure = None
        self._socket, self._server, self._thread = sock, server, thread
        address = sock.getsockname()
        self._address = (str(address[0]), int(address[1]))
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                failure = self._failure
                self.stop()
                raise RuntimeError("the emulator did not start") from failure
            time.sleep(0.002)
        return self

    def _serve(self, server: Any, sock: socket.socket) -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - reported by start(), thread must not die loudly
            self._failure = exc

    def stop(self) -> None:
        """Stop serving; hung and slow answers are cut (their connections reset)."""
        thread, server, sock = self._thread, self._server, self._socket
        if thread is None:
            return
        self.app.shutdown()
        if server is not None:
            server.should_exit = True
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive() and server is not None:
            server.force_exit = True
            thread.join(_STOP_TIMEOUT)
        if sock is not None:
            sock.close()
        self._thread = self._server = self._socket = None
        self._address = None
        if self._proxy is not None and self._proxy.recorder is not None:
            self._proxy.recorder.write()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def scenario(self, name: str | None = None) -> Scenario:
        """A scenario with its own queue and log, served under ``/_s/{name}/``.

        Without a name a unique one is made. The same name gives the same queue and log.
        """
        if name is None:
            name = "s" + uuid.uuid4().hex[:16]
        if not valid_scenario_name(name):
            raise ValueError(f"invalid scenario name {name!r}: use letters, digits, . _ ~ -")
        return Scenario(self._registry.get(name), self._root_url, f"/_s/{name}")

    @property
    def peak_in_flight(self) -> int:
        """The most requests answered at the same time, over all scenarios, since reset()."""
        return self._registry.peak_in_flight

    def reset(self) -> None:
        """Reset the default scenario (queue, log, default) and the server-wide peak."""
        super().reset()
        self._registry.reset_peak()
