"""The social consumer: one post per article and channel, never twice, retracted when the
story goes; and `/v1/social/posts` for editors. See handler.py for how it stays exactly-once."""

from __future__ import annotations

from pathlib import Path

from cms.settings import Settings
from consumers.runtime.spec import ConsumerSpec
from consumers.social import api
from consumers.social.handler import Social


def build(settings: Settings | None = None) -> ConsumerSpec:
    """The consumer; without `settings` it reads `CMS_*` from the environment on first use,
    unless a process binds it to its own settings first (`ConsumerSpec.for_settings`)."""
    social = Social(settings)
    return ConsumerSpec(
        name="social",
        schema="social",
        migrations=Path(__file__).parent / "migrations",
        apply=social.apply,
        store_url=lambda settings: settings.social_database_url,
        port=lambda settings: settings.social_port,
        operations=lambda holder: api.operations(social, holder),
        bind=build if settings is None else None,
    )


SPEC = build()
