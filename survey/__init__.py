"""The shared core: survey definitions, reply reading, scoring, the local store."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("palaute")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
