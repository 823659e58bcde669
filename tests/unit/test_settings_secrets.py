"""Invalid settings are reported by name, never by value: values hold passwords and tokens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from cms.platform.settings import ConfigurationError
from cms.system import SystemSettings
from consumers.social.channels import configured
from consumers.social.settings import SocialSettings

BIN = Path(sys.executable).parent
SECRETS = ("hunter2-bluesky-app-password", "mastodon-token-s3cret", "db-pa55word")
CHANNELS = [
    {
        "name": "bluesky",
        "kind": "bluesky",
        "url": "https://pds.example",
        "identifier": "n.example",
        "password": SECRETS[0],
        "typo": 1,
    },
    {"name": "mastodon", "network": "mastodon", "access_token": SECRETS[1]},
]


def _run(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CMS_")}
    return subprocess.run(  # noqa: S603 (our own entry point, fixed arguments)
        [str(BIN / command), *(["social"] if command == "cms-consumer" else ["serve"])],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_bad_channel_list_stops_the_consumer_naming_fields_without_their_values() -> None:
    """`cms-consumer social` with a wrong channel list exits 2 and prints no credential."""
    result = _run("cms-consumer", CMS_SOCIAL_CHANNELS=orjson.dumps(CHANNELS).decode())

    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "CMS_SOCIAL_CHANNELS[0].typo" in output
    assert "CMS_SOCIAL_CHANNELS[1].kind" in output
    assert not [secret for secret in SECRETS if secret in output]
    assert "Traceback" not in output


def test_a_bad_setting_beside_a_database_password_names_the_setting_only() -> None:
    """`cms serve` with one invalid number exits 2 and does not echo the database URL."""
    result = _run(
        "cms", CMS_POOL_MIN_SIZE="many", CMS_DATABASE_URL=f"postgresql://cms:{SECRETS[2]}@db.example/cms"
    )

    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "CMS_POOL_MIN_SIZE" in output
    assert SECRETS[2] not in output
    assert "many" not in output


def test_channel_errors_raised_in_process_carry_no_value() -> None:
    """The error a running process gets for the channel list names fields, not values."""
    settings = SocialSettings(social_channels=CHANNELS)

    with pytest.raises(ConfigurationError) as caught:
        configured(settings)

    assert "CMS_SOCIAL_CHANNELS[1].kind" in str(caught.value)
    assert not [secret for secret in SECRETS if secret in str(caught.value)]


def test_the_settings_repr_leaves_out_fields_that_may_hold_credentials() -> None:
    """repr() of the settings (in tracebacks and logs) shows no URL password or channel token."""
    settings = SystemSettings(
        database_url=f"postgresql://cms:{SECRETS[2]}@db.example/cms",
        amqp_url=f"amqp://cms:{SECRETS[2]}@mq.example/",
        social_channels=CHANNELS,
    )

    shown = repr(settings)
    assert "pool_max_size" in shown
    assert not [secret for secret in SECRETS if secret in shown]
