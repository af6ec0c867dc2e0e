"""``guidang serve`` (the web app), ``guidang user`` (accounts and API tokens), ``guidang audit-log verify``."""

from __future__ import annotations

import getpass
import os
import threading
from dataclasses import dataclass
from typing import Any

import click

from guidang.cli.errors import handle_errors
from guidang.errors import InputError


def cli_agent() -> str:
    """How the audit log names a person at the command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@click.command("serve")
@click.option("--host", help="监听地址 / address to listen on (default: web.host, 127.0.0.1)")
@click.option("--port", type=click.IntRange(1, 65535), help="端口 / port (default: web.port, 8470)")
@handle_errors
def serve_command(host: str | None, port: int | None) -> None:
    """启动审核台网页服务 / serve the review desk (web app)."""
    import uvicorn

    from guidang.cli.app import settings
    from guidang.cli.db import upgrade_catalogue
    from guidang.web.app import create_app

    s = settings()
    upgrade_catalogue(s.db_url)
    host = host or s.web.host
    port = port or s.web.port
    click.echo(f"审核台 review desk: http://{host}:{port}/")
    uvicorn.run(create_app(s), host=host, port=port, log_level="warning")


@click.group("user")
def user_group() -> None:
    """账户与 API 令牌 / accounts and API tokens."""


def _password(env: str | None, none: bool) -> str | None:
    if none:
        return None
    if env:
        value = os.environ.get(env)
        if not value:
            raise InputError(f"环境变量 {env} 未设置或为空", f"the environment variable {env} is unset or empty")
        return value
    value = click.prompt("密码 password", hide_input=True, confirmation_prompt=True)
    return str(value)


@user_group.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True,
              help="角色，可多次 / role, repeatable: archivist auditor ops admin sysadmin secadmin secauditor system")
@click.option("--password-env", metavar="VAR", help="从环境变量读密码 / read the password from this variable")
@click.option("--no-password", is_flag=True, help="不能用密码登录（业务系统，用令牌）/ no password (a system)")
@click.option("--display-name", default="", help="显示名 / display name")
@click.option("--clearance", default="公开", show_default=True, help="可见的最高密级 / highest 密级 visible")
@click.option("--mark", "marks", multiple=True, help="可见的控制标识，可多次 / a 控制标识 visible, repeatable")
@handle_errors
def user_add_command(name: str, roles: tuple[str, ...], password_env: str | None, no_password: bool,
                     display_name: str, clearance: str, marks: tuple[str, ...]) -> None:
    """新建账户 / add an account."""
    from guidang.cli.app import settings
    from guidang.storage.catalogue import Catalogue
    from guidang.web.accounts import add_user
    from guidang.web.audit import record

    password = _password(password_env, no_password)
    with Catalogue(settings().db_url).session() as s:
        row = add_user(s, name, roles, password, display_name=display_name, clearance=clearance,
                       control_marks=marks)
        record(s, cli_agent(), "user.added", row.name, roles=row.roles, clearance=row.clearance,
               control_marks=row.control_marks, password=password is not None)
    click.echo(f"账户已建 account added: {name} ({', '.join(sorted(set(roles)))})")


@user_group.command("token")
@click.argument("name")
@click.option("--label", default="", help="说明 / what the token is for")
@handle_errors
def user_token_command(name: str, label: str) -> None:
    """为账户（业务系统）签发 API 令牌，只显示一次 / issue an API token (shown once)."""
    from guidang.cli.app import settings
    from guidang.storage.catalogue import Catalogue
    from guidang.web.accounts import issue_token, user_named
    from guidang.web.audit import record

    with Catalogue(settings().db_url).session() as s:
        user = user_named(s, name)
        if user is None:
            raise InputError(f"没有账户 {name}", f"no account {name}")
        row, token = issue_token(s, user, label)
        record(s, cli_agent(), "token.issued", user.name, token=row.id, prefix=row.prefix, label=label)
    click.echo(token)


@user_group.command("list")
@handle_errors
def user_list_command() -> None:
    """列出账户 / list accounts."""
    from sqlalchemy import select

    from guidang.cli.app import settings
    from guidang.storage.accounts import UserRow
    from guidang.storage.catalogue import Catalogue

    with Catalogue(settings().db_url).session() as s:
        for u in s.scalars(select(UserRow).order_by(UserRow.name)):
            state = "" if u.active else "  (停用 disabled)"
            click.echo(f"{u.name}\t{','.join(u.roles)}\t{u.clearance}\t{','.join(u.control_marks)}{state}")


@click.group("audit-log")
def audit_group() -> None:
    """审计日志 / the audit log."""


@audit_group.command("verify")
@handle_errors
def audit_verify_command() -> None:
    """校验审计日志的 SM3 哈希链及其外部锚点 / verify the audit log's SM3 chain and its anchors."""
    import sys

    from guidang.cli.app import settings
    from guidang.pipeline.audit_log import check_chain
    from guidang.storage.catalogue import Catalogue

    s = settings()
    report = check_chain(s, Catalogue(s.db_url), reason="guidang audit-log verify")
    for p in report.problems:
        click.echo(f"{p.kind}: {p.zh} / {p.en}")
    click.echo(f"{'完整 intact' if report.ok else '已破坏 broken'}: {report.checked} 条 entries, "
               f"链头 head {report.head.seq} {report.head.hash}")
    if not report.ok:
        sys.exit(1)


DEMO_USER = "demo"
DEMO_PASSWORD_ENV = "GUIDANG_DEMO_PASSWORD"


def ensure_demo_user(settings: object) -> str | None:
    """The demo account of ``make run`` (role admin): created once, its password from $GUIDANG_DEMO_PASSWORD
    or generated and written to <home>/demo-password.txt (readable by the owner only). Returns the message to
    print, or None when the account exists already."""
    import secrets

    from guidang.config import Settings
    from guidang.fsutil import replace_file
    from guidang.storage.catalogue import Catalogue
    from guidang.web.accounts import add_user, user_named
    from guidang.web.audit import record

    assert isinstance(settings, Settings)
    with Catalogue(settings.db_url).session() as s:
        if user_named(s, DEMO_USER) is not None:
            return None
        password = os.environ.get(DEMO_PASSWORD_ENV) or secrets.token_urlsafe(12)
        add_user(s, DEMO_USER, ["admin"], password, display_name="演示账户 demo", clearance="公开")
        record(s, cli_agent(), "user.added", DEMO_USER, roles=["admin"], demo=True)
    if os.environ.get(DEMO_PASSWORD_ENV):
        return f"演示账户 demo account: {DEMO_USER}，密码取自 password from ${DEMO_PASSWORD_ENV}"
    path = settings.path("demo-password.txt")
    replace_file(path, f"{password}\n".encode())
    path.chmod(0o600)
    return f"演示账户 demo account: {DEMO_USER} / {password}（已存于 saved in {path}）"


@dataclass
class Desk:
    """The review desk served from a background thread beside the watcher."""

    address: str
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()


def start_desk_beside(settings: object) -> Desk | None:
    """Serve the review desk from a background thread (``guidang run``); None when it could not start (the
    watcher runs on regardless, and the reason is logged)."""
    import logging
    import time

    import uvicorn

    from guidang.config import Settings
    from guidang.web.app import create_app

    assert isinstance(settings, Settings)
    host, port = settings.web.host, settings.web.port
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="guidang-web", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.05)
    if not server.started:
        logging.getLogger(__name__).warning("审核台未能启动 the review desk did not start on %s:%d", host, port)
        return None
    return Desk(f"http://{host}:{port}/", server, thread)
