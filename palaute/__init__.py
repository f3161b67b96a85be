"""palaute: patient feedback kiosks, SMS surveys and their sync to a central store."""

from survey import __version__

__all__ = ["__version__"]
