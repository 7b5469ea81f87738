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


def test_user_set_changes_role_and_enables_and_keeps_one_admin(city):
    """`gridgov user` had no way to re-enable an account or give a role back from the server, and
    the last admin could demote themselves through the page."""
    runner = CliRunner()
    r = runner.invoke(_app(), ["user", "add", "boss", "--role", "admin", "--password", "a-long-password", "--db", city])
    assert r.exit_code == 0, r.output
    assert runner.invoke(_app(), ["user", "set", "admin", "--disable", "--db", city]).exit_code == 0  # the city's other admin
    r = runner.invoke(_app(), ["user", "set", "boss", "--role", "planner", "--db", city])
    assert r.exit_code != 0 and "only enabled admin" in r.exception.message_en
    r = runner.invoke(_app(), ["user", "set", "boss", "--disable", "--db", city])
    assert r.exit_code != 0 and "only enabled admin" in r.exception.message_en
    r = runner.invoke(_app(), ["user", "add", "typist2", "--role", "planner", "--password", "pw-123456789", "--db", city])
    r = runner.invoke(_app(), ["user", "set", "typist2", "--disable", "--db", city])
    assert r.exit_code == 0 and "disabled" in r.output
    with make_client(city) as client:
        assert client.post("/api/login/access-token", data={"username": "typist2", "password": "pw-123456789"}).status_code == 401
        r = runner.invoke(_app(), ["user", "set", "typist2", "--enable", "--role", "street", "--ward", W1, "--db", city])
        assert r.exit_code == 0, r.output
        assert client.post("/api/login/access-token", data={"username": "typist2", "password": "pw-123456789"}).status_code == 200


def test_two_admins_disabling_each_other_at_once_leave_one_enabled(pg_url):
    """PostgreSQL: each saw the other still enabled and both committed: no admin left."""
    import threading

    from gridgov.api import accounts
    from gridgov.errors import UserError
    from gridgov.store import open_store

    with open_store(pg_url, create=True) as store:
        for name in ("admin1", "admin2"):
            accounts.add_user(store, name, role="admin", password="a-long-password", wards=[], actor="t")
    first, second = open_store(pg_url), open_store(pg_url)
    outcome: list[BaseException | None] = []

    def other_admin() -> None:
        try:
            accounts.update_user(second, "admin1", disabled=True, actor="admin2")
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    try:
        with first.transaction():
            accounts.update_user(first, "admin2", disabled=True, actor="admin1")
            other = threading.Thread(target=other_admin)
            other.start()
            other.join(1.0)
        other.join(30)
        assert isinstance(outcome[0], UserError) and "only enabled admin" in outcome[0].message_en
        assert [u.username for u in accounts.list_users(first) if u.role == "admin" and not u.disabled] == ["admin1"]
    finally:
        first.close()
        second.close()


def test_account_commands_speak_the_chosen_language(city, monkeypatch):
    """user add/set/list printed both languages whatever --lang said, the role as a code."""
    from gridgov.cli_common import state

    runner = CliRunner()
    monkeypatch.setattr(state, "lang", "en")
    r = runner.invoke(_app(), ["user", "add", "office11", "--role", "street", "--ward", W1,
                               "--password", "a-long-password", "--db", city])
    assert r.exit_code == 0 and "account office11 created (street office, " in r.output and "已创建" not in r.output
    monkeypatch.setattr(state, "lang", "zh")
    r = runner.invoke(_app(), ["user", "set", "office11", "--disable", "--db", city])
    assert "账号 office11：街道/乡镇" in r.output and "停用" in r.output and "account" not in r.output
    r = runner.invoke(_app(), ["user", "list", "--db", city])
    assert "角色" in r.output and "方案编制人员" in r.output and "role" not in r.output
