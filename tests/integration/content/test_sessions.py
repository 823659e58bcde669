"""Browser sessions over real HTTP (`cms serve` on a loopback port): sign-in and its cookie, CSRF,
sign-out, sign-out everywhere, idle and absolute expiry, disabled users, audit lines."""

from __future__ import annotations

import asyncio
import hashlib
import time
from http.cookies import SimpleCookie

import asyncpg
import httpx2

from tests.helpers import bearer, count
from tests.integration.people import PASSWORD, make_person, serving, sign_in, signed_in

Record = asyncpg.Record
ARTICLE = {"title": "Stabschefs sprechen miteinander", "language": "de"}


def _cookie(response: httpx2.Response) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    return jar


async def test_sign_in_sets_an_httponly_lax_cookie_and_stores_only_the_sessions_hash(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """Signing in answers the user and a CSRF token, sets an HttpOnly SameSite=Lax cookie (not Secure
    over http) whose secret is stored only as its hash, and logs an audit line without the password."""
    user = await make_person(db, "Ada@Example.org", "editor", name="Ada Lovelace")
    async with serving(database_url) as served, served.client("198.51.100.7") as browser:
        response = await sign_in(browser, "ada@example.ORG")
        me = await browser.get("/v1/auth/session")

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    morsel = _cookie(response)["cms_session"]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "lax"
    assert morsel["path"] == "/"
    assert not morsel["secure"]
    body = response.json()
    assert body["user"]["id"] == str(user.id)
    assert body["user"]["name"] == "Ada Lovelace"
    assert body["csrf_token"]
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "Ada@Example.org"
    assert me.json()["csrf_token"] == body["csrf_token"]
    stored = await db.fetchval("SELECT id_hash FROM sessions WHERE user_id = $1", user.id)
    assert stored == hashlib.sha256(morsel.value.encode()).digest()
    assert morsel.value not in str(await db.fetch("SELECT * FROM sessions"))
    lines = served.audit("signin.succeeded")
    assert [(line["actor"], line["address"]) for line in lines] == [("Ada@Example.org", "198.51.100.7")]
    assert PASSWORD not in b"".join(served.stderr).decode()


async def test_over_https_the_cookie_is_secure_and_host_only(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """With an https CMS_PUBLIC_URL the cookie is `__Host-` prefixed and Secure."""
    await make_person(db, "ada@example.org")
    async with (
        serving(database_url, public_url="https://cms.example.org") as served,
        served.client() as browser,
    ):
        response = await sign_in(browser, "ada@example.org")

    assert response.status_code == 201
    morsel = _cookie(response)["__Host-cms_session"]
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "lax"
    assert morsel["domain"] == ""


async def test_wrong_password_and_unknown_email_get_one_answer_in_the_same_time(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """A wrong password and an unknown email are the same 401, and the unknown email costs a hash too;
    neither sets a cookie nor logs the password typed."""
    await make_person(db, "ada@example.org")
    async with serving(database_url) as served, served.client() as browser:
        await sign_in(browser, "warm@example.org", "warming up the dummy hash")
        wrong, unknown = [], []
        for attempt in range(3):
            started = time.perf_counter()
            wrong.append(
                (
                    await sign_in(browser, "ada@example.org", f"falsch-{attempt}"),
                    time.perf_counter() - started,
                )
            )
            started = time.perf_counter()
            unknown.append(
                (
                    await sign_in(browser, "nobody@example.org", f"falsch-{attempt}"),
                    time.perf_counter() - started,
                )
            )

    for response, _ in wrong + unknown:
        assert response.status_code == 401
        assert "set-cookie" not in response.headers
    assert wrong[0][0].json()["detail"] == unknown[0][0].json()["detail"] == "wrong email or password"
    fastest_wrong = min(seconds for _, seconds in wrong)
    fastest_unknown = min(seconds for _, seconds in unknown)
    assert fastest_unknown > 0.5 * fastest_wrong, (fastest_unknown, fastest_wrong)
    failed = served.audit("signin.failed")
    assert {line["reason"] for line in failed} == {"password", "unknown"}
    assert all("falsch" not in line.decode() for line in served.stderr)
    assert await count(db, "sessions") == 0


async def test_a_cookie_request_that_changes_state_needs_the_csrf_token_and_our_origin(
    database_url: str, db: asyncpg.Connection[Record], token: dict[str, str]
) -> None:
    """With the cookie, a write without the CSRF token, with a wrong one, or from another origin is a
    403 and writes nothing; with the right token it succeeds; a bearer write needs no CSRF token."""
    await make_person(db, "ada@example.org", "author")
    async with serving(database_url) as served, served.client() as browser:
        csrf = await signed_in(browser, "ada@example.org")
        without = await browser.post("/v1/admin/articles", json=ARTICLE)
        wrong = await browser.post(
            "/v1/admin/articles", json=ARTICLE, headers={"X-CSRF-Token": csrf[:-2] + "xx"}
        )
        foreign = await browser.post(
            "/v1/admin/articles",
            json=ARTICLE,
            headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
        )
        foreign_referer = await browser.post(
            "/v1/admin/articles",
            json=ARTICLE,
            headers={"X-CSRF-Token": csrf, "Referer": "https://evil.example/page"},
        )
        after_refusals = await count(db, "articles")
        right = await browser.post(
            "/v1/admin/articles", json=ARTICLE, headers={"X-CSRF-Token": csrf, "Origin": served.base_url}
        )
        read = await browser.get("/v1/admin/articles")
        async with served.client() as script:
            by_token = await script.post("/v1/admin/articles", json=ARTICLE, headers=bearer(token["author"]))

    for refused in (without, wrong, foreign, foreign_referer):
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert after_refusals == 0
    assert right.status_code == 201, right.text
    assert right.json()["owner"] == "ada@example.org"
    assert read.status_code == 200  # reads need no CSRF token
    assert by_token.status_code == 201
    assert await count(db, "articles") == 2


async def test_signing_out_ends_the_session_and_clears_the_cookie(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """Sign-out (with the CSRF token) deletes the session: the old cookie no longer authenticates."""
    await make_person(db, "ada@example.org")
    async with serving(database_url) as served, served.client("198.51.100.7") as browser:
        csrf = await signed_in(browser, "ada@example.org")
        secret = browser.cookies["cms_session"]
        refused = await browser.delete("/v1/auth/session")
        ended = await browser.delete("/v1/auth/session", headers={"X-CSRF-Token": csrf})
        async with served.client() as replay:
            replay.cookies.set("cms_session", secret)
            replayed = await replay.get("/v1/admin/articles")

    assert refused.status_code == 403
    assert ended.status_code == 204
    assert 'cms_session=""' in ended.headers["set-cookie"] or "Max-Age=0" in ended.headers["set-cookie"]
    assert replayed.status_code == 401
    assert await count(db, "sessions") == 0
    assert [(line["actor"], line["address"]) for line in served.audit("signout")] == [
        ("ada@example.org", "198.51.100.7")
    ]


async def test_signing_out_everywhere_ends_every_session_of_mine_and_no_one_elses(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """Sign-out everywhere from one browser ends the user's other sessions at once, not a colleague's."""
    await make_person(db, "ada@example.org")
    await make_person(db, "bob@example.org")
    async with (
        serving(database_url) as served,
        served.client() as laptop,
        served.client() as phone,
        served.client() as colleague,
    ):
        csrf = await signed_in(laptop, "ada@example.org")
        await signed_in(phone, "ada@example.org")
        await signed_in(colleague, "bob@example.org")
        assert (await phone.get("/v1/auth/session")).status_code == 200
        revoked = await laptop.post("/v1/auth/sessions/revoke", headers={"X-CSRF-Token": csrf})
        phone_after = await phone.get("/v1/auth/session")
        laptop_after = await laptop.get("/v1/auth/session")
        colleague_after = await colleague.get("/v1/auth/session")

    assert revoked.status_code == 204
    assert phone_after.status_code == 401
    assert laptop_after.status_code == 401
    assert colleague_after.status_code == 200
    assert [line["sessions"] for line in served.audit("signout.everywhere")] == [2]


async def test_an_idle_session_expires_and_use_keeps_it_alive(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """A session used every half second outlives its 2 s idle timeout; left alone it ends."""
    await make_person(db, "ada@example.org")
    async with (
        serving(database_url, session_idle_timeout="PT2S", session_absolute_timeout="PT1M") as served,
        served.client() as browser,
    ):
        await signed_in(browser, "ada@example.org")
        kept = []
        for _ in range(8):  # 4 s of use, twice the idle timeout
            await asyncio.sleep(0.5)
            kept.append((await browser.get("/v1/auth/session")).status_code)
        await asyncio.sleep(2.5)
        idle = await browser.get("/v1/auth/session")

    assert kept == [200] * 8
    assert idle.status_code == 401


async def test_a_session_ends_at_its_absolute_expiry_however_active(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """Renewal never passes the absolute expiry: a session in constant use ends 2 s after sign-in."""
    await make_person(db, "ada@example.org")
    async with (
        serving(database_url, session_idle_timeout="PT1M", session_absolute_timeout="PT2S") as served,
        served.client() as browser,
    ):
        await signed_in(browser, "ada@example.org")
        early = await browser.get("/v1/auth/session")
        statuses = []
        for _ in range(6):
            await asyncio.sleep(0.5)
            statuses.append((await browser.get("/v1/auth/session")).status_code)

    assert early.status_code == 200
    assert statuses[0] == 200
    assert statuses[-1] == 401
    assert early.json()["expires_at"] == early.json()["idle_expires_at"]


async def test_disabling_a_user_stops_their_session_and_tokens_at_once(
    database_url: str, db: asyncpg.Connection[Record], token: dict[str, str]
) -> None:
    """Once an admin disables a user, their open session, their token and new sign-ins are refused."""
    user = await make_person(db, "ada@example.org", "editor")
    async with serving(database_url) as served, served.client() as browser, served.client() as admin:
        await signed_in(browser, "ada@example.org")
        made = await admin.post(
            "/v1/admin/tokens",
            json={"name": "Adas Skript", "role": "editor", "user_id": str(user.id)},
            headers=bearer(token["admin"]),
        )
        personal = made.json()["token"]
        before = (
            (await browser.get("/v1/admin/articles")).status_code,
            (await admin.get("/v1/admin/articles", headers=bearer(personal))).status_code,
        )
        disabled = await admin.patch(
            f"/v1/admin/users/{user.id}", json={"disabled": True}, headers=bearer(token["admin"])
        )
        session_after = await browser.get("/v1/admin/articles")
        token_after = await admin.get("/v1/admin/articles", headers=bearer(personal))
        again = await sign_in(browser, "ada@example.org")

    assert before == (200, 200)
    assert disabled.status_code == 200
    assert disabled.json()["disabled"] is True
    assert session_after.status_code == 401
    assert token_after.status_code == 401
    assert again.status_code == 401
    assert await count(db, "sessions") == 0
    assert [line["email"] for line in served.audit("user.disabled")] == ["ada@example.org"]
    assert [line["actor"] for line in served.audit("user.disabled")] == ["ada"]


async def test_a_session_works_on_every_endpoint_a_token_does(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """A signed-in editor publishes over the cookie: revision and event name the person."""
    await make_person(db, "ada@example.org", "editor")
    async with serving(database_url) as served, served.client() as browser:
        csrf = {"X-CSRF-Token": await signed_in(browser, "ada@example.org")}
        draft = (await browser.post("/v1/admin/articles", json=ARTICLE, headers=csrf)).json()
        published = await browser.post(f"/v1/admin/articles/{draft['id']}/publish", headers=csrf)
        revisions = await browser.get(f"/v1/admin/articles/{draft['id']}/revisions")

    assert published.status_code == 200
    assert [r["actor"] for r in revisions.json()["items"]] == ["ada@example.org"] * 2
    actors = await db.fetch("SELECT payload->>'actor' AS actor FROM outbox ORDER BY sequence")
    assert [row["actor"] for row in actors] == ["ada@example.org"] * 2
