"""archroom: the controller daemon of an RFID smart archive room."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("archroom")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"
