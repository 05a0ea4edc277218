"""One domain error tree; the HTTP layer maps each class to a status in one handler."""

from __future__ import annotations


class InvoiceOcrError(Exception):
    """Base of every error the product raises on purpose; `code` is stable, `message` is for people."""

    code = "invoice_ocr_error"
    status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(InvoiceOcrError):
    """A malformed request or option (bad page range, bad query, bad filter)."""

    code = "invalid_request"
    status = 400


class UnsupportedDocument(InvoiceOcrError):
    """The bytes are not a document type the product reads (sniffed, not trusted from the name)."""

    code = "unsupported_document"
    status = 415


class DocumentTooLarge(InvoiceOcrError):
    """Too many bytes, pages or pixels for the configured limits."""

    code = "document_too_large"
    status = 413


class DocumentTooSlow(DocumentTooLarge):
    """Reading the document took longer than the per-document time budget; its reading was stopped."""

    code = "document_too_slow"
    status = 413


class UnreadableDocument(InvoiceOcrError):
    """A document of a known type that cannot be read: empty, truncated, corrupt."""

    code = "unreadable_document"
    status = 422


class EncryptedDocument(UnreadableDocument):
    """A password-protected document."""

    code = "encrypted_document"
    status = 422


class NotAnInvoice(UnreadableDocument):
    """The document was read but shows nothing invoice-like (no number, no amount); nothing was stored."""

    code = "not_an_invoice"
    status = 422


class AmountOutOfRange(InvoiceOcrError):
    """An amount larger than the invoice history stores (a document's or a correction's); nothing was stored."""

    code = "amount_out_of_range"
    status = 422


class UnknownEngine(InvoiceOcrError):
    """An engine name that is not registered."""

    code = "unknown_engine"
    status = 400


class EngineUnavailable(InvoiceOcrError):
    """A registered engine that cannot run here (missing package, no GPU, no model)."""

    code = "engine_unavailable"
    status = 503


class EngineFailed(InvoiceOcrError):
    """An engine ran and failed on a page (timeouts, server errors, runaway generation)."""

    code = "engine_failed"
    status = 502


class NotFound(InvoiceOcrError):
    """The requested record does not exist."""

    code = "not_found"
    status = 404


class Conflict(InvoiceOcrError):
    """The request conflicts with the stored state."""

    code = "conflict"
    status = 409


class DatabaseDamaged(InvoiceOcrError):
    """The history database cannot be opened: not a whole DuckDB database (truncated, overwritten) or unusable."""

    code = "database_damaged"
    status = 503  # the service cannot serve until the file is restored; no request of the caller's is at fault


class Unauthorized(InvoiceOcrError):
    """No valid credentials were sent."""

    code = "unauthorized"
    status = 401


class Forbidden(InvoiceOcrError):
    """The credentials do not allow this action."""

    code = "forbidden"
    status = 403


class Busy(InvoiceOcrError):
    """The extraction queue is full; retry later."""

    code = "busy"
    status = 503

    def __init__(self, message: str, retry_after: int = 5, **details: object) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class ServiceNotReady(InvoiceOcrError):
    """The app has not finished starting: the invoice history is not open yet."""

    code = "not_ready"
    status = 503


class ExtractionTimeout(InvoiceOcrError):
    """An extraction took longer than the request timeout; nothing was stored."""

    code = "timeout"
    status = 504


class Abandoned(Busy):
    """The server is shutting down (or the caller left); the extraction was dropped before it changed anything.

    To the caller it is Busy (503, try again later), with a longer wait.
    """

    def __init__(self, message: str, retry_after: int = 10) -> None:
        super().__init__(message, retry_after)


class KeyFileDamaged(InvoiceOcrError):
    """The key file cannot be read: no stored key can be checked until it is fixed (keys stay required)."""

    code = "key_file_damaged"
    status = 503


class IndexCorrupt(InvoiceOcrError):
    """The saved vector index cannot be read or disagrees with its meta file (it is rebuilt from the history)."""

    code = "index_corrupt"
    status = 503


class OnnxUnsupported(InvoiceOcrError):
    """This model cannot be run through the ONNX path (not a mean-pooled BERT-style encoder, or no runtime)."""

    code = "onnx_unsupported"
    status = 503


class ConversionError(InvoiceOcrError):
    """A model folder that cannot be converted to the native DeepSeek-OCR-2 layout, and why."""

    code = "conversion_failed"
    status = 422
