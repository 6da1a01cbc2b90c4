"""One error hierarchy shared by the library, the CLI, the HTTP server and the UI.

Every error carries a stable ``code`` (for JSON output), an ``exit_code`` (for the
CLI) and an ``http_status`` (for the server).  The library raises; the CLI and the
server map.  ``ERROR_TABLE`` is rendered into docs/errors.md by ``chatocr errors``.
"""

from __future__ import annotations

from typing import ClassVar


class ChatOCRError(Exception):
    """Base class: a problem the user can act on (never shown as a traceback)."""

    code: ClassVar[str] = "error"
    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    summary: ClassVar[str] = "unexpected chatocr error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self)}


class OptionsError(ChatOCRError):
    code = "bad_options"
    exit_code = 2
    http_status = 422
    summary = "invalid option or option combination"


class InputFileError(ChatOCRError):
    code = "input_file"
    exit_code = 3
    http_status = 422
    summary = "the input could not be read or decoded (missing, empty, truncated, corrupt)"


class UnsupportedFormatError(InputFileError):
    code = "unsupported_format"
    exit_code = 4
    http_status = 415
    summary = "the bytes are not an image or PDF format chatocr reads"


class EncryptedPdfError(InputFileError):
    code = "encrypted_pdf"
    exit_code = 5
    http_status = 422
    summary = "the PDF is password-protected"


class LimitExceededError(InputFileError):
    code = "limit_exceeded"
    exit_code = 6
    http_status = 413
    summary = "the input exceeds a configured limit (pixels, pages, bytes)"


class MissingDependencyError(ChatOCRError):
    code = "missing_dependency"
    exit_code = 7
    http_status = 501
    summary = "an optional component is not installed"


class EngineError(ChatOCRError):
    code = "engine_error"
    exit_code = 8
    http_status = 500
    summary = "the OCR engine failed"


class SpecError(ChatOCRError):
    code = "bad_field_spec"
    exit_code = 9
    http_status = 422
    summary = "the field list, schema file or template name is invalid"


class SpecLimitError(SpecError):
    code = "spec_too_large"
    exit_code = 15
    http_status = 413
    summary = "the field spec is over a limit (fields, name length, schema size or depth, pattern length)"


class OutputFileError(ChatOCRError):
    code = "output_file"
    exit_code = 16
    http_status = 500
    summary = "the output file cannot be written (read-only folder, no space); checked before any work"


class BackendError(ChatOCRError):
    code = "backend_error"
    exit_code = 10
    http_status = 502
    summary = "the language-model backend failed"


class BackendUnavailableError(BackendError):
    code = "backend_unavailable"
    exit_code = 11
    http_status = 502
    summary = "the language-model server could not be reached"


class BackendTimeoutError(BackendError):
    code = "backend_timeout"
    exit_code = 12
    http_status = 504
    summary = "the language-model server did not answer in time"


class MalformedReplyError(BackendError):
    code = "malformed_reply"
    exit_code = 13
    http_status = 502
    summary = "the language model's reply was not valid for the field spec after retries"
    # The last invalid reply, when there was one: a caller may still use the fields it got right.
    reply: str | None = None


class DatasetError(ChatOCRError):
    code = "bad_dataset"
    exit_code = 14
    http_status = 422
    summary = "a dataset folder is malformed (missing label, bad JSON)"


class ServiceError(ChatOCRError):
    """Errors that only the HTTP server raises."""

    code = "service_error"
    exit_code = 20
    http_status = 500
    summary = "server-side error"


class UnauthorizedError(ServiceError):
    code = "unauthorized"
    exit_code = 21
    http_status = 401
    summary = "missing or wrong API key"


class RequestTimeoutError(ServiceError):
    code = "request_timeout"
    exit_code = 29
    http_status = 408
    summary = "the upload was not received in time (a stalled or too slow client)"


class CancelledError(ServiceError):
    code = "cancelled"
    exit_code = 30
    http_status = 499
    summary = "the client went away; the work for its request was stopped"


class QueueFullError(ServiceError):
    code = "queue_full"
    exit_code = 22
    http_status = 503
    summary = "the server's request queue is full; retry after the Retry-After delay"


class NotFoundError(ServiceError):
    code = "not_found"
    exit_code = 23
    http_status = 404
    summary = "no such job, page image or route (a job is deleted when its retention ends)"


class InvalidRequestError(ServiceError):
    code = "invalid_request"
    exit_code = 24
    http_status = 422
    summary = "a request part is missing or has the wrong type (e.g. no 'file' part)"


class BadRequestError(ServiceError):
    code = "bad_request"
    exit_code = 25
    http_status = 400
    summary = "the HTTP request could not be parsed (e.g. a malformed multipart body)"


class MethodNotAllowedError(ServiceError):
    code = "method_not_allowed"
    exit_code = 26
    http_status = 405
    summary = "the route exists but not with this HTTP method"


class InternalError(ServiceError):
    code = "internal_error"
    exit_code = 27
    http_status = 500
    summary = "an unexpected failure inside chatocr (a bug: the server log or traceback has the details)"


class JobInterruptedError(ServiceError):
    code = "job_interrupted"
    exit_code = 28
    http_status = 500
    summary = "the server stopped while running this job, every time it was tried; it was given up"


def all_error_classes() -> list[type[ChatOCRError]]:
    seen: list[type[ChatOCRError]] = []
    stack: list[type[ChatOCRError]] = [ChatOCRError]
    while stack:
        cls = stack.pop(0)
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


def error_table_markdown() -> str:
    rows = ["| error class | code | exit code | HTTP status | meaning |", "|---|---|---|---|---|"]
    for cls in sorted(all_error_classes(), key=lambda c: c.exit_code):
        rows.append(f"| `{cls.__name__}` | `{cls.code}` | {cls.exit_code} | {cls.http_status} | {cls.summary} |")
    return "\n".join(rows) + "\n"


def error_class_for_code(code: str) -> type[ChatOCRError]:
    """The error class with this ``code`` (ChatOCRError itself when unknown)."""
    for cls in all_error_classes():
        if cls.code == code:
            return cls
    return ChatOCRError
