"""`gridgov user add/list/password` through the Typer sub-app (the same accounts the API signs in)."""

from __future__ import annotations

import typer
from api_city import PASSWORD, W1, make_client
from typer.testing import CliRunner

from gridgov.cli_api import user_app


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(user_app, name="user")

    @app.callback()
    def _main() -> None:
        pass

    return app


def test_user_add_list_and_sign_in(city):
    runner = CliRunner()
    r = runner.invoke(_app(), ["user", "add", "office9", "--role", "street", "--ward", W1,
                               "--password", "a-long-password", "--db", city])
    assert r.exit_code == 0, r.output
    r = runner.invoke(_app(), ["user", "add", "office10", "--role", "street", "--db", city, "--password", "x" * 9])
    assert r.exit_code != 0 and "至少要绑定一个街道" in r.exception.message
    r = runner.invoke(_app(), ["user", "add", "typist", "--role", "planner", "--db", city], input="pw-123456789\npw-123456789\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(_app(), ["user", "list", "--db", city])
    assert "office9" in r.output and "typist" in r.output and "argon2" not in r.output
    with make_client(city) as client:
        for user, pw in (("office9", "a-long-password"), ("typist", "pw-123456789")):
            assert client.post("/api/login/access-token", data={"username": user, "password": pw}).status_code == 200
        assert client.post("/api/login/access-token",
                           data={"username": "office9", "password": PASSWORD}).status_code == 401
    r = runner.invoke(_app(), ["user", "password", "office9", "--password", "another-pass-1", "--db", city])
    assert r.exit_code == 0, r.output
