"""The social consumer: one post per article and channel, never twice, retracted when the
story goes; and `/v1/social/posts` for editors. See handler.py for how it stays exactly-once."""

from __future__ import annotations

from pathlib import Path

from consumers.runtime.spec import Bound, ConsumerSpec
from consumers.social import api
from consumers.social.handler import Social
from consumers.social.settings import SocialSettings


def _bind(settings: SocialSettings) -> Bound:
    social = Social(settings)
    return Bound(social.apply, lambda holder: api.operations(social, holder))


SPEC = ConsumerSpec(
    name="social",
    schema="social",
    migrations=Path(__file__).parent / "migrations",
    settings_class=SocialSettings,
    bind=_bind,
    store_url=lambda settings: settings.social_database_url,
    port=lambda settings: settings.social_port,
)
