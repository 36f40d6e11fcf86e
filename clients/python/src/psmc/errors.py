"""The one error class of psmc (spec/SPEC.md §errors; TypeScript: src/core/errors.ts).

Every failure a caller can act on is a :class:`PsmcError` with a stable string
``code`` (identical in TypeScript, Python and Rust), a message that says what
went wrong and where, and a ``hint`` that says how to fix it. Each code maps to
exactly one CLI exit code and one HTTP status, in :data:`ERROR_CODES` and
nowhere else.

Caller misuse of the Python API (a non-string key, an unknown option) is a
``TypeError``, not a PsmcError.
"""

ERROR_CODES = {
    "PSMC_KEY_SYNTAX": {"exit": 5, "http": 400},
    "PSMC_KEY_RESERVED": {"exit": 5, "http": 400},
    "PSMC_VALUE_INVALID": {"exit": 5, "http": 400},
    "PSMC_VALUE_TOO_LARGE": {"exit": 5, "http": 413},
    "PSMC_SCHEMA_VIOLATION": {"exit": 5, "http": 422},
    "PSMC_SCHEMA_INVALID": {"exit": 5, "http": 400},
    "PSMC_ENV_COERCE": {"exit": 5, "http": 422},
    "PSMC_PARSE": {"exit": 5, "http": 400},
    "PSMC_CONFLICT": {"exit": 4, "http": 412},
    "PSMC_NOT_FOUND": {"exit": 3, "http": 404},
    "PSMC_NOTHING_TO_UNDO": {"exit": 3, "http": 409},
    "PSMC_STORE_NOT_FOUND": {"exit": 3, "http": 404},
    "PSMC_BUSY": {"exit": 6, "http": 503},
    "PSMC_IO": {"exit": 6, "http": 500},
    "PSMC_CLOSED": {"exit": 6, "http": 500},
    "PSMC_READ_ONLY": {"exit": 6, "http": 403},
    "PSMC_UNAUTHORIZED": {"exit": 6, "http": 401},
    "PSMC_FORBIDDEN": {"exit": 6, "http": 403},
    "PSMC_UNSUPPORTED_MEDIA_TYPE": {"exit": 5, "http": 415},
    "PSMC_FORMAT_TOO_NEW": {"exit": 7, "http": 500},
    "PSMC_CORRUPT": {"exit": 7, "http": 500},
    "PSMC_USAGE": {"exit": 2, "http": 400},
    "PSMC_INTERNAL": {"exit": 1, "http": 500},
}


class PsmcError(Exception):
    """A failure with a stable ``code``, a ``hint`` and machine-readable ``details``.

    Compare codes, never messages.
    """

    def __init__(self, code, message, hint, details=None, cause=None):
        if code not in ERROR_CODES:
            raise ValueError("unknown psmc error code %r" % (code,))
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.details = {} if details is None else details
        if cause is not None:
            self.__cause__ = cause

    @property
    def exit_code(self):
        """The CLI exit code for this error."""
        return ERROR_CODES[self.code]["exit"]

    @property
    def http_status(self):
        """The HTTP status for this error."""
        return ERROR_CODES[self.code]["http"]

    def to_json(self):
        """A plain dict for ``--json`` output and HTTP bodies. Never contains a stack."""
        return {"code": self.code, "message": self.message, "hint": self.hint, "details": self.details}

    def __repr__(self):
        return "PsmcError(%r, %r)" % (self.code, self.message)


def error_info(code):
    """``{"exit": n, "http": n}`` for a code, or None when the code is unknown."""
    info = ERROR_CODES.get(code)
    return None if info is None else dict(info)
