"""Domain errors, raised by meaning; `cms.platform.problem` maps them to HTTP once."""

from __future__ import annotations

from typing import Any, ClassVar


class CmsError(Exception):
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    type_slug: ClassVar[str] = "internal"
    headers: ClassVar[dict[str, str] | None] = None

    @property
    def extra(self) -> dict[str, Any]:
        return {}

    def response_headers(self) -> dict[str, str] | None:
        return self.headers


class BadRequest(CmsError):
    status = 400
    title = "Bad request"
    type_slug = "bad-request"


class Unauthorized(CmsError):
    status = 401
    title = "Unauthorized"
    type_slug = "unauthorized"
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": 'Bearer realm="cms"'}


class Forbidden(CmsError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(CmsError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(CmsError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class SlugTaken(Conflict):
    type_slug = "slug-taken"

    def __init__(self, slug: str, language: str) -> None:
        super().__init__(f"the slug {slug!r} is already used by another {language!r} article")


class InvalidTransition(Conflict):
    type_slug = "invalid-transition"

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"cannot {action} an article that is {status}")
        self.current_status = status

    @property
    def extra(self) -> dict[str, Any]:
        return {"current_status": self.current_status}


class PreconditionFailed(CmsError):
    status = 412
    title = "Precondition failed"
    type_slug = "precondition-failed"

    def __init__(self, current_version: int) -> None:
        super().__init__(
            f"the article is at version {current_version}; reload it and apply your change again"
        )
        self.current_version = current_version

    @property
    def extra(self) -> dict[str, Any]:
        return {"current_version": self.current_version}


class PayloadTooLarge(CmsError):
    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class UnsupportedMediaType(CmsError):
    status = 415
    title = "Unsupported media type"
    type_slug = "unsupported-media-type"


class InvalidInput(CmsError):
    status = 422
    title = "Invalid input"
    type_slug = "invalid-input"

    def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.errors = errors

    @property
    def extra(self) -> dict[str, Any]:
        return {"errors": self.errors}


class PreconditionRequired(CmsError):
    status = 428
    title = "Precondition required"
    type_slug = "precondition-required"


class TooManyRequests(CmsError):
    status = 429
    title = "Too many requests"
    type_slug = "too-many-requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    @property
    def extra(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}

    def response_headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(CmsError):
    status = 503
    title = "Service unavailable"
    type_slug = "unavailable"
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "5"}
