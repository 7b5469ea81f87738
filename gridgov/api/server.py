"""Running the service under uvicorn: every connection with TCP_NODELAY, one or several workers."""

from __future__ import annotations

import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

APP = "gridgov.api.main:create_app"


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with Nagle's algorithm off on every connection.

    asyncio turns Nagle off only for sockets whose ``proto`` is IPPROTO_TCP, and the listening
    socket uvicorn makes for ``--workers N`` has proto 0, so its connections keep Nagle on. A
    response goes out as a header write and a body write: the body then waits for the client's
    delayed ACK of the headers, 40 ms on Linux, for every response longer than one segment
    (measured: a street office's 9.9 KB worker list took 44 ms at any load, 1 ms with this).
    """

    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


# Every line with its time: a log read after an incident (under a supervisor that adds none, or
# redirected to a file) had none.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with times on every line, and gridgov's own loggers
    (request failures, the job runner) through the same handler."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["fmt"] = "%(asctime)s %(levelprefix)s %(message)s"
    config["formatters"]["access"]["fmt"] = '%(asctime)s %(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'
    config["loggers"]["gridgov"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def run(*, host: str, port: int, workers: int = 1, access_log: bool = True, log_level: str = "info") -> None:
    """Serve ``create_app()`` (settings from the environment) until stopped."""
    import uvicorn

    # The class itself, not an import string: uvicorn before 0.30 looked strings up in its own table.
    uvicorn.run(APP, factory=True, host=host, port=port, workers=max(1, workers), http=NoDelayH11Protocol,
                access_log=access_log, log_level=log_level, log_config=log_config())
