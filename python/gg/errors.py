"""Errors raised by the gg Python SDK. Each message says what, where, and what to do."""


class GGError(Exception):
    """Base class of every error the SDK raises."""


class NotFoundError(GGError):
    """An object, reduction, store or program that is not there."""


class CorruptError(GGError):
    """Content that does not match its name, or a malformed thunk or tree."""


class InvalidError(GGError, ValueError):
    """Bad arguments: a thunk that would not validate, a malformed name."""


class ForceError(GGError):
    """A force failed. `stderr` holds what gg printed, including the failed
    thunk's name, command line, exit status and stderr."""

    def __init__(self, message: str, stderr: str = "", returncode: int = 0) -> None:
        super().__init__(message)
        self.stderr = stderr
        self.returncode = returncode
