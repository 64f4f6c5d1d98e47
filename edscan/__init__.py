"""edscan: a privacy-risk audit scanner for ed-tech apps."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edscan")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
