"""Headless CMS for news publishers: content API, outbox and relay."""
