"""The project's exceptions: one vocabulary, each naming what failed and how to fix it."""


class DangjianError(Exception):
    """Base class for every error the project reports to a user."""


class DecodeError(DangjianError):
    """Raised when page bytes cannot be turned into text."""


class ExtractionError(DangjianError):
    """Raised when a page cannot be parsed into article fields."""


class SiteConfigError(DangjianError):
    """Raised when the site registry (sites.yml) is invalid."""


class StoreError(DangjianError):
    """Raised when the database cannot be opened or written."""
