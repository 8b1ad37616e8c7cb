"""socialid service: the aiohttp app, storage, workers and the CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("socialid")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
