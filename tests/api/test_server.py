"""``gridgov serve --workers N``: Nagle off on every connection, one secret shared by the workers."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx
from api_city import PASSWORD
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from gridgov.api.server import NoDelayH11Protocol


def _nodelay_seen_by(protocol_class: type) -> int:
    """TCP_NODELAY of a connection accepted on a listening socket made as uvicorn makes one
    for --workers (proto 0), with ``protocol_class`` handling it."""
    seen: list[int] = []

    class Probe(protocol_class):  # type: ignore[misc, valid-type]
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            seen.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    async def main() -> None:
        config = Config(app=lambda scope, receive, send: None)
        config.load()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, like uvicorn's bind_socket
        listener.bind(("127.0.0.1", 0))
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: Probe(config=config, server_state=ServerState(), app_state={}), sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()

    asyncio.run(main())
    return seen[0]


def test_connections_have_nagle_off():
    assert _nodelay_seen_by(H11Protocol) == 0  # what uvicorn's own protocol leaves on such sockets
    assert _nodelay_seen_by(NoDelayH11Protocol) != 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_with_two_workers_shares_one_secret(city):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "GRIDGOV_API_SECRET"}
    proc = subprocess.Popen([sys.executable, "-m", "gridgov", "--db", city, "serve", "--port", str(port),
                             "--workers", "2", "--no-jobs", "--no-access-log"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the service did not start"
            time.sleep(0.3)
        token = httpx.post(f"{base}/api/login/access-token",
                           data={"username": "street1", "password": PASSWORD}).json()["access_token"]
        # New connections each time: the two workers take turns, and each must accept the token.
        codes = {httpx.get(f"{base}/api/workers", headers={"Authorization": f"Bearer {token}"}).status_code
                 for _ in range(30)}
        assert codes == {200}
    finally:
        proc.terminate()
        proc.wait(30)


def test_thread_count_setting_applies(city):
    import anyio.to_thread
    from api_city import make_client

    with make_client(city) as client:
        tokens = client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
    assert tokens == 40  # the default

    from fastapi.testclient import TestClient

    from gridgov.api.main import create_app
    from gridgov.settings import Settings

    settings = Settings(db=city, api_run_jobs=False, api_threads=3, api_secret="s" * 40)
    with TestClient(create_app(settings)) as client:
        assert client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens) == 3
