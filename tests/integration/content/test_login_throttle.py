"""Sign-in throttling over real HTTP: per account and address, per address, per account; an attacker
is slowed without locking the real user out."""

from __future__ import annotations

import asyncio

import asyncpg

from tests.integration.people import make_person, serving, sign_in

Record = asyncpg.Record
ATTACKER = "203.0.113.9"
REAL_USER = "198.51.100.7"


async def test_an_attackers_address_is_throttled_while_the_real_user_signs_in_from_theirs(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """Past the free failures one address gets 429 with Retry-After, even with the right password,
    while the account's owner signs in from another address at once."""
    await make_person(db, "ada@example.org")
    async with (
        serving(database_url, login_pair_free="2", login_account_free="10") as served,
        served.client(ATTACKER) as attacker,
        served.client(REAL_USER) as owner,
    ):
        failures = [(await sign_in(attacker, "ada@example.org", f"rate-{n}")).status_code for n in range(3)]
        blocked = await sign_in(attacker, "ada@example.org")
        real = await sign_in(owner, "ada@example.org")

    assert failures == [401, 401, 401]
    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"
    assert int(blocked.headers["retry-after"]) >= 1
    assert "set-cookie" not in blocked.headers
    assert real.status_code == 201
    throttled = served.audit("signin.throttled")
    assert [(line["actor"], line["address"]) for line in throttled] == [("ada@example.org", ATTACKER)]
    rows = await db.fetch("SELECT scope, key, failures FROM login_failures ORDER BY scope")
    assert {(row["scope"], row["failures"]) for row in rows} == {("pair", 3), ("address", 3), ("account", 3)}


async def test_the_wait_doubles_and_a_success_clears_the_pair(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """After the wait a further failure doubles it; once it is over, a success resets that pair."""
    await make_person(db, "ada@example.org")
    async with (
        serving(database_url, login_pair_free="1") as served,
        served.client(REAL_USER) as owner,
    ):
        await sign_in(owner, "ada@example.org", "vertippt")
        second = await sign_in(owner, "ada@example.org", "nochmal vertippt")
        first_wait = await db.fetchval(
            "SELECT blocked_until - last_at FROM login_failures WHERE scope = 'pair'"
        )
        await asyncio.sleep(first_wait.total_seconds() + 0.2)
        third = await sign_in(owner, "ada@example.org", "schon wieder")
        second_wait = await db.fetchval(
            "SELECT blocked_until - last_at FROM login_failures WHERE scope = 'pair'"
        )
        await asyncio.sleep(second_wait.total_seconds() + 0.2)
        success = await sign_in(owner, "ada@example.org")

    assert (second.status_code, third.status_code, success.status_code) == (401, 401, 201)
    assert second_wait == 2 * first_wait
    assert await db.fetchval("SELECT count(*) FROM login_failures WHERE scope = 'pair'") == 0
    assert await db.fetchval("SELECT failures FROM login_failures WHERE scope = 'account'") == 3


async def test_an_attack_from_many_addresses_slows_the_real_user_only_briefly(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """Failures from many addresses block the account for at most the account's cap: the real user
    waits that long, then signs in; the attacker's waiting attempts are not counted."""
    await make_person(db, "ada@example.org")
    async with serving(
        database_url, login_account_free="3", login_account_max_delay="PT1S", login_pair_free="5"
    ) as served:
        for n in range(6):
            async with served.client(f"203.0.113.{n + 1}") as bot:
                await sign_in(bot, "ada@example.org", f"geraten-{n}")
        async with served.client(REAL_USER) as owner:
            slowed = await sign_in(owner, "ada@example.org")
            await asyncio.sleep(int(slowed.headers.get("retry-after", "0")) + 0.2)
            later = await sign_in(owner, "ada@example.org")

    assert slowed.status_code == 429
    assert int(slowed.headers["retry-after"]) <= 1
    assert later.status_code == 201
    # Six tries, the first three free and the rest refused unchecked while blocked, so not counted.
    assert await db.fetchval("SELECT failures FROM login_failures WHERE scope = 'account'") < 6


async def test_one_address_trying_many_accounts_is_blocked_on_every_account(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """Past the address's free failures, that address gets 429 for any account, a fresh one too."""
    await make_person(db, "ada@example.org")
    async with (
        serving(database_url, login_address_free="3") as served,
        served.client(ATTACKER) as sprayer,
        served.client(REAL_USER) as owner,
    ):
        for n in range(4):
            await sign_in(sprayer, f"user{n}@example.org", "Sommer2026!")
        sprayed = await sign_in(sprayer, "ada@example.org")
        real = await sign_in(owner, "ada@example.org")

    assert sprayed.status_code == 429
    assert real.status_code == 201
