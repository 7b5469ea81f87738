"""CLI for the web service: `gridgov user add|list|set` and `gridgov serve` (needs the "api" extra)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from gridgov.cli_common import DbOption, _open, _say, label, out, pick, state
from gridgov.errors import UserError

user_app = typer.Typer(help="账号管理（网页服务）/ accounts of the web service", no_args_is_help=True)

def _checked_settings(db: str | None, **overrides: object):
    """Settings for a long-running command (``--db``, else the global --db, else the environment),
    after the store opened once: a missing or too new store fails now with its own message."""
    from gridgov.settings import Settings

    db = db or state.db
    settings = Settings(**({"db": db} if db else {}), **overrides)
    with _open(settings.db):
        pass
    return settings


def _accounts():
    from gridgov.api import accounts  # raises MissingExtraError without the "api" extra

    return accounts


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="用户名 / user name")],
    role: Annotated[str, typer.Option(help="admin | planner | street")] = "street",
    ward: Annotated[Optional[list[str]], typer.Option("--ward", help="街道代码，可多次给出 / ward code, repeatable")] = None,
    password: Annotated[Optional[str], typer.Option(help="不给则提示输入 / prompted when absent")] = None,
    display_name: Annotated[str, typer.Option("--display-name", help="显示名称 / shown name")] = "",
    actor: Annotated[str, typer.Option(help="操作人（记入工作台账）/ who, for the ledger")] = "cli",
    db: DbOption = None,
) -> None:
    """新建账号 / create an account (street accounts need --ward)."""
    accounts = _accounts()
    if password is None:
        password = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    with _open(db) as store:
        user = accounts.add_user(store, name, role=role, password=password, wards=ward or [],
                                 display_name=display_name, actor=actor)
    (wards, wards_en), (role, role_en) = _wards_text(user), _role_text(user.role)
    _say(f"已创建账号 {user.username}（{role}，{wards}）", f"account {user.username} created ({role_en}, {wards_en})")


_ROLES_EN = {"street": "street office"}


def _role_text(role: str) -> tuple[str, str]:
    from gridgov.schema import ROLE_ZH

    return ROLE_ZH.get(role, role), _ROLES_EN.get(role, role)


def _wards_text(user: Any) -> tuple[str, str]:
    return ("、".join(sorted(user.wards)), ", ".join(sorted(user.wards))) if user.wards else ("全市", "city-wide")


@user_app.command("list")
def user_list(db: DbOption = None) -> None:
    """列出账号 / list accounts."""
    accounts = _accounts()
    with _open(db) as store:
        users = accounts.list_users(store)
    en = state.lang == "en"
    table = Table(title=label("账号", "accounts"))
    for zh, english in (("用户名", "user"), ("角色", "role"), ("街道", "wards"), ("停用", "disabled")):
        table.add_column(label(zh, english))
    for u in users:
        wards, role = _wards_text(u)[en], _role_text(u.role)[en]
        table.add_row(escape(u.username), role, wards, ("yes" if en else "是") if u.disabled else "")
    out.print(table)


@user_app.command("password")
def user_password(
    name: Annotated[str, typer.Argument(help="用户名 / user name")],
    password: Annotated[Optional[str], typer.Option(help="不给则提示输入 / prompted when absent")] = None,
    actor: Annotated[str, typer.Option(help="操作人 / who")] = "cli",
    db: DbOption = None,
) -> None:
    """重设密码 / set a new password."""
    accounts = _accounts()
    if password is None:
        password = typer.prompt("新密码 / new password", hide_input=True, confirmation_prompt=True)
    with _open(db) as store:
        accounts.update_user(store, name, password=password, actor=actor)
    _say(f"已重设 {name} 的密码", f"password of {name} changed")


@user_app.command("set")
def user_set(
    name: Annotated[str, typer.Argument(help="用户名 / user name")],
    role: Annotated[Optional[str], typer.Option(help="admin | planner | street")] = None,
    ward: Annotated[Optional[list[str]], typer.Option("--ward", help="街道代码，可多次给出 / ward code, repeatable")] = None,
    enable: Annotated[Optional[bool], typer.Option("--enable/--disable", help="启用或停用 / enable or disable")] = None,
    display_name: Annotated[Optional[str], typer.Option("--display-name", help="显示名称 / shown name")] = None,
    actor: Annotated[str, typer.Option(help="操作人（记入工作台账）/ who, for the ledger")] = "cli",
    db: DbOption = None,
) -> None:
    """修改账号：角色、街道、启用/停用 / change an account's role, wards, or enable/disable it (on the server,
    without the page: an admin who demoted themselves had no way back)."""
    accounts = _accounts()
    with _open(db) as store:
        user = accounts.update_user(store, name, actor=actor, role=role, wards=ward,
                                    disabled=None if enable is None else not enable, display_name=display_name)
    (wards, wards_en), (role, role_en) = _wards_text(user), _role_text(user.role)
    state_zh, state_en = ("停用", "disabled") if user.disabled else ("启用", "enabled")
    _say(f"账号 {user.username}：{role}，{wards}，{state_zh}", f"account {user.username}: {role_en}, {wards_en}, {state_en}")


def serve(
    host: Annotated[str, typer.Option(help="监听地址 / address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / port")] = 8000,
    db: DbOption = None,
    jobs: Annotated[bool, typer.Option("--jobs/--no-jobs", help="在本进程运行后台任务 / run background jobs here")] = True,
    workers: Annotated[int, typer.Option(help="网页进程数（每个 CPU 核一个）/ web worker processes (one per core)")] = 1,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="访问日志 / access log")] = True,
) -> None:
    """启动网页服务（网页 /，接口文档 /docs）/ run the web service (page at /, API docs at /docs).

    With ``--workers N`` start ``gridgov jobs`` beside it and pass ``--no-jobs``, so solves run
    in their own process rather than in one of the web workers.
    """
    import os
    import secrets

    try:
        from gridgov.api import server
    except ImportError as exc:
        from gridgov.errors import MissingExtraError

        raise MissingExtraError("uvicorn", "api") from exc
    settings = _checked_settings(db, api_run_jobs=jobs)
    _refuse_busy_port(host, port)
    # The workers build their settings from the environment: hand them what was chosen here.
    os.environ["GRIDGOV_DB"] = settings.db
    os.environ["GRIDGOV_API_RUN_JOBS"] = "true" if jobs else "false"
    if workers > 1 and jobs:
        out.print(pick("每个网页进程都会运行后台任务；建议 --no-jobs 并另行运行 gridgov jobs",
                       "every web worker runs background jobs too: prefer --no-jobs with gridgov jobs beside them"),
                  style="yellow", markup=False)
    if workers > 1 and not settings.api_secret:
        # Each worker would draw its own random secret and refuse the others' tokens.
        os.environ["GRIDGOV_API_SECRET"] = secrets.token_urlsafe(32)
        out.print(pick("GRIDGOV_API_SECRET 未设置：本次使用随机密钥，重启后需重新登录",
                       "no API secret set: a random one is shared by the workers; sign-ins end with a restart"),
                  style="yellow", markup=False)
    _say(f"gridgov 网页服务：http://{host}:{port}/ （接口文档 /docs）", f"serving on http://{host}:{port}/ (API docs at /docs)")
    server.run(host=host, port=port, workers=workers, access_log=access_log)


def _refuse_busy_port(host: str, port: int) -> None:
    """A second ``gridgov serve`` on a port in use started its application (and job runner) and
    logged "startup complete" before failing to bind: say so first, plainly."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(f"无法解析监听地址 {host}：{exc}", f"cannot resolve the address {host}: {exc}") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise UserError(f"无法监听 {host}:{port}：{exc.strerror}", f"cannot listen on {host}:{port}: {exc.strerror}") from exc
            raise UserError(f"端口 {port} 已被占用（另一个 gridgov serve 仍在运行？）：换一个端口（--port），或先停止占用它的程序",
                            f"port {port} is in use (another gridgov serve still running?): choose another "
                            "with --port, or stop what holds it") from exc


def jobs(
    db: DbOption = None,
    nice: Annotated[int, typer.Option(help="降低本进程的 CPU 优先级（0–19）/ lower this process's CPU priority (0-19)")] = 10,
) -> None:
    """只运行后台任务（求解），与网页服务分开 / run background jobs (solves) apart from the web service.

    Start the web workers with ``--no-jobs`` (or GRIDGOV_API_RUN_JOBS=false) and one of these
    beside them: a solve then never shares a web worker's interpreter, and at a lower priority it
    takes the CPU the web workers leave. Stops on Ctrl-C or SIGTERM.
    """
    import os
    import signal
    import threading

    from gridgov.store import resolve_url

    try:
        from gridgov.api.jobs import JobRunner
        from gridgov.api.pool import StorePool
    except ImportError as exc:
        from gridgov.errors import MissingExtraError

        raise MissingExtraError("fastapi", "api") from exc
    import logging

    from gridgov.api.server import LOG_FORMAT

    settings = _checked_settings(db)
    logging.basicConfig(format=LOG_FORMAT, level=logging.INFO)  # timed lines, as the service's
    if nice > 0:
        os.nice(min(19, nice))
    pool = StorePool(resolve_url(settings.db), size=2)
    runner = JobRunner(pool, poll_s=settings.api_job_poll_s, stale_s=settings.api_job_stale_s,
                       solve_threads=settings.api_solve_threads)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    _say("gridgov 后台任务进程已启动（Ctrl-C 结束）", "job runner started (Ctrl-C to stop)")
    runner.start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop(timeout=30)
        pool.close()
