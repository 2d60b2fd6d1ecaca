"""The installed version, recorded in every result's provenance."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("parley")
except PackageNotFoundError:  # running from a source tree without installation
    VERSION = "0+unknown"
