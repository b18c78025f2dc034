"""Tessera's exceptions: one class per runtime status code, plus CompileError.

Every exception the package raises on purpose is a tessera.Error; `code` is
the runtime's TesseraStatusCode number (None for CompileError) and the message
is the runtime's (or the compiler's) own.
"""


class Error(Exception):
    """Base class of every Tessera error."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidArgumentError(Error, ValueError):
    """Wrong inputs: names, dtypes, shapes, sizes (TESSERA_ERROR_INVALID_ARGUMENT)."""


class LoadError(Error):
    """The file is missing, unreadable or not a Tessera model (TESSERA_ERROR_LOAD)."""


class AbiVersionError(Error):
    """The library was built for another ABI version (TESSERA_ERROR_ABI_VERSION)."""


class CpuFeatureError(Error):
    """The library needs a CPU feature this machine lacks (TESSERA_ERROR_CPU_FEATURE)."""


class EntryError(Error):
    """The model's code returned an error (TESSERA_ERROR_ENTRY)."""


class OutOfMemoryError(Error, MemoryError):
    """The runtime ran out of memory (TESSERA_ERROR_OUT_OF_MEMORY)."""


class InternalError(Error):
    """A bug in Tessera (TESSERA_ERROR_INTERNAL)."""


class WeightsError(Error):
    """The external weights file is missing or does not match (TESSERA_ERROR_WEIGHTS)."""


class CompileError(Error):
    """tessera-compile refused the model or failed; the message is its error."""
