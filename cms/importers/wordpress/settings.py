"""What `cms import wordpress` reads from the environment, beside the content app's settings."""

from __future__ import annotations

from pydantic import Field, SecretStr

from cms.platform.settings import PlatformSettings
from cms.settings import Settings


class WordPressImportSettings(PlatformSettings):
    # From the environment, never an argument: arguments end up in shell histories and `ps`.
    wordpress_app_password: SecretStr | None = Field(
        default=None, repr=False, description="REST import: the application password of --user"
    )
    wordpress_import_workers: int = Field(
        default=4, ge=1, le=32, description="WXR import: connections writing posts side by side"
    )


class ImportSettings(Settings, WordPressImportSettings):
    """The command's: the content app's settings (database, URLs) and the import's own."""
