"""`cms user create|set-role|disable` as operators run them: real processes against the test database."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import asyncpg
import httpx2

from tests.integration.people import PASSWORD

Record = asyncpg.Record
CMS = Path(sys.executable).parent / "cms"


async def cms(database_url: str, *args: str, stdin: bytes = b"") -> tuple[int, str, list[dict[str, Any]]]:
    """Run `cms ARGS...`; its exit code, standard output and JSON log lines."""
    env = {**os.environ, "CMS_DATABASE_URL": database_url, "CMS_LOG_FORMAT": "json", "CMS_LOG_LEVEL": "info"}
    process = await asyncio.create_subprocess_exec(
        str(CMS),
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout=60)
    lines = []
    for line in err.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            lines.append({"text": line.decode()})
    assert process.returncode is not None
    return process.returncode, out.decode(), lines


async def test_cms_user_create_reads_the_password_from_stdin_and_the_person_signs_in(
    database_url: str, db: asyncpg.Connection[Record], api: httpx2.AsyncClient
) -> None:
    """`cms user create` takes the password from standard input (never an argument), prints the new
    id, logs an audit line without the password, and the person can sign in with it."""
    code, out, log = await cms(
        database_url,
        *("user", "create", "--email", "ada@example.org", "--name", "Ada Lovelace", "--role", "admin"),
        stdin=f"{PASSWORD}\n".encode(),
    )

    assert code == 0, log
    row = await db.fetchrow("SELECT id, name, role, password_hash FROM users WHERE email = 'ada@example.org'")
    assert row is not None
    assert out.strip() == str(row["id"])
    assert (row["name"], row["role"]) == ("Ada Lovelace", "admin")
    assert row["password_hash"].startswith("$argon2id$")
    created = [line for line in log if line.get("event") == "audit.user.created"]
    assert [(line["actor"], line["email"]) for line in created] == [("cli", "ada@example.org")]
    assert all(PASSWORD not in json.dumps(line) for line in log)
    signed_in = await api.post("/v1/auth/session", json={"email": "ada@example.org", "password": PASSWORD})
    assert signed_in.status_code == 201


async def test_cms_user_create_refuses_a_short_password_a_bad_role_and_a_taken_email(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """A password under 12 characters, an unknown role or an email taken in another case: exit non-zero,
    no user stored beyond the first."""
    short, _, _ = await cms(
        database_url,
        *("user", "create", "--email", "a@example.org", "--name", "A", "--role", "admin"),
        stdin=b"kurz\n",
    )
    role, _, _ = await cms(
        database_url,
        *("user", "create", "--email", "a@example.org", "--name", "A", "--role", "root"),
        stdin=f"{PASSWORD}\n".encode(),
    )
    first, _, _ = await cms(
        database_url,
        *("user", "create", "--email", "a@example.org", "--name", "A", "--role", "author"),
        stdin=f"{PASSWORD}\n".encode(),
    )
    taken, out, _ = await cms(
        database_url,
        *("user", "create", "--email", "A@EXAMPLE.org", "--name", "A", "--role", "author"),
        stdin=f"{PASSWORD}\n".encode(),
    )

    assert (short, role, first) == (2, 2, 0)
    assert taken == 1
    assert out == ""
    assert await db.fetchval("SELECT count(*) FROM users") == 1


async def test_cms_user_set_role_and_disable_change_the_user_and_keep_the_last_admin(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """`set-role` changes a role and `disable` disables (audit lines for both); the last enabled admin
    can neither be demoted nor disabled (exit 1, unchanged)."""
    for email, role in (("ada@example.org", "admin"), ("bob@example.org", "author")):
        code, _, _ = await cms(
            database_url,
            *("user", "create", "--email", email, "--name", "X", "--role", role),
            stdin=f"{PASSWORD}\n".encode(),
        )
        assert code == 0

    promoted, _, promote_log = await cms(
        database_url, "user", "set-role", "--email", "BOB@example.org", "--role", "editor"
    )
    disabled, _, disable_log = await cms(database_url, "user", "disable", "--email", "bob@example.org")
    demote_last, _, _ = await cms(
        database_url, "user", "set-role", "--email", "ada@example.org", "--role", "editor"
    )
    disable_last, _, _ = await cms(database_url, "user", "disable", "--email", "ada@example.org")
    unknown, _, _ = await cms(database_url, "user", "disable", "--email", "nobody@example.org")

    assert (promoted, disabled) == (0, 0)
    assert (demote_last, disable_last, unknown) == (1, 1, 1)
    rows = {r["email"]: r for r in await db.fetch("SELECT email, role, disabled_at FROM users")}
    assert rows["bob@example.org"]["role"] == "editor"
    assert rows["bob@example.org"]["disabled_at"] is not None
    assert (rows["ada@example.org"]["role"], rows["ada@example.org"]["disabled_at"]) == ("admin", None)
    changed = [line for line in promote_log if line.get("event") == "audit.user.role_changed"]
    assert [(line["old"], line["new"]) for line in changed] == [("author", "editor")]
    assert [line["event"] for line in disable_log if line.get("event", "").startswith("audit.")] == [
        "audit.user.disabled"
    ]


async def test_cms_token_create_makes_or_reuses_a_machine_user(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """`cms token create` twice for one name: two tokens, one machine user, an audit line each."""
    first, _, log = await cms(database_url, "token", "create", "--role", "author", "--name", "Import-Skript")
    second, _, _ = await cms(database_url, "token", "create", "--role", "author", "--name", "Import-Skript")

    assert (first, second) == (0, 0)
    owners = await db.fetch("SELECT DISTINCT user_id FROM api_tokens")
    assert len(owners) == 1
    assert await db.fetchval("SELECT kind FROM users WHERE id = $1", owners[0]["user_id"]) == "machine"
    assert [line["name"] for line in log if line.get("event") == "audit.token.created"] == ["Import-Skript"]
