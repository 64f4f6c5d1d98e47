"""edscan: a privacy-risk audit scanner for ed-tech apps."""

# The one place the version is written (pyproject.toml reads it): importlib.metadata would cost
# every command ~30 ms of start-up.
__version__ = "0.1.0"
