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


class DiskFullError(StoreError):
    """Raised when the database has no room left (its disk, quota or max_page_count is full).

    The write that hit it was rolled back: stop, free space, run the same command again.
    """
