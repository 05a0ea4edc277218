"""Load a file: sniff its type from bytes, enforce limits, split into pages, rasterize on demand."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from utils.errors import DocumentTooLarge, EncryptedDocument, UnreadableDocument, UnsupportedDocument
from utils.hashing import sha256_hex

if TYPE_CHECKING:
    from PIL import Image

    from utils.settings import Settings

MEDIA_PDF = "application/pdf"
MEDIA_XML = "application/xml"
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff", "webp": "image/webp"}

_XML_INVOICE = re.compile(
    rb"CrossIndustryInvoice|CrossIndustryDocument|uncefact:data:standard:CBFBUY"
    rb"|urn:oasis:names:specification:ubl:schema:xsd:(Invoice|CreditNote)"
)
_SNIFF_BYTES = 65536
# Names under which Factur-X, ZUGFeRD and XRechnung embed their XML.
EINVOICE_ATTACHMENTS = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "zugferd_invoice.xml")


def sniff_media_type(data: bytes) -> str:
    """The media type from the first bytes; UnsupportedDocument when it is none we read."""
    head = data[:1024]
    if data.startswith(b"PK\x03\x04"):
        # A PDF stored uncompressed in a ZIP would otherwise be found by its header and read alone.
        raise UnsupportedDocument("a ZIP archive or Office document: upload the PDFs or images inside it, one by one")
    if b"%PDF-" in head:
        return MEDIA_PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return IMAGE_TYPES["png"]
    if data.startswith(b"\xff\xd8\xff"):
        return IMAGE_TYPES["jpeg"]
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return IMAGE_TYPES["tiff"]
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return IMAGE_TYPES["webp"]
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<") and _XML_INVOICE.search(data[:_SNIFF_BYTES]):
        return MEDIA_XML
    raise UnsupportedDocument(
        "unsupported file type: expected a PDF, PNG, JPEG, TIFF, WebP image or a CII/UBL XML e-invoice"
    )


@dataclass
class Page:
    """One page: its 1-based number and size (PDF points, or pixels for images)."""

    number: int
    width: float
    height: float
    document: Document = field(repr=False)

    def text_char_count(self) -> int:
        """Characters in the PDF text layer (0 for images and XML)."""
        if self.document.pdf is None:
            return 0
        with self.document.lock:
            return len(self.document.pdf[self.number - 1].get_text("text").strip())

    def render(self, dpi: int) -> Image.Image:
        """The page as an RGB image; PDF pages at `dpi`, capped so pixels stay under the limit."""
        return self.document.render_page(self.number, dpi)


class LazyFrames(Sequence["Image.Image"]):
    """The frames of an image file, each decoded when it is read (never all at once); the first EXIF-turned."""

    def __init__(self, filename: str, image: Image.Image, count: int, lock: threading.RLock) -> None:
        self.filename = filename
        self.image = image
        self.frame_count = count
        self.lock = lock

    def __len__(self) -> int:
        return self.frame_count

    @overload
    def __getitem__(self, index: int) -> Image.Image: ...
    @overload
    def __getitem__(self, index: slice) -> list[Image.Image]: ...
    def __getitem__(self, index: int | slice) -> Image.Image | list[Image.Image]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.frame_count))]
        if not -self.frame_count <= index < self.frame_count:
            raise IndexError(index)
        return self._decode(index % self.frame_count)

    def _decode(self, index: int) -> Image.Image:
        from PIL import ImageOps

        with self.lock:
            try:
                self.image.seek(index)
                frame = self.image.copy()
                frame = ImageOps.exif_transpose(frame) if index == 0 else frame
                return frame.convert("RGB")
            except MemoryError as exc:
                raise DocumentTooLarge(f"{self.filename}: frame {index + 1} is too large to decode here") from exc
            except Exception as exc:
                raise UnreadableDocument(
                    f"{self.filename}: the image data of frame {index + 1} is damaged ({exc})"
                ) from exc


@dataclass
class Document:
    """A loaded document; PDFs stay open for page access, images keep their decoded frames."""

    sha256: str
    filename: str
    media_type: str
    data: bytes = field(repr=False)
    max_pixels: int
    pages: list[Page] = field(default_factory=list)
    pdf: Any = field(default=None, repr=False)
    xml: bytes | None = field(default=None, repr=False)
    xml_name: str | None = None
    frames: Sequence[Image.Image] = field(default_factory=list, repr=False)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _words: dict[int, list[tuple[Any, ...]]] = field(default_factory=dict, repr=False)

    @property
    def page_count(self) -> int:
        """Number of pages (TIFF frames count as pages; an XML file is one page)."""
        return len(self.pages)

    def render_page(self, number: int, dpi: int) -> Image.Image:
        """Rasterize page `number` (1-based)."""
        from PIL import Image

        if self.frames:
            return self.frames[number - 1]
        if self.pdf is None:
            raise UnreadableDocument(f"{self.filename}: page {number} has no image to render")
        page = self.pages[number - 1]
        scale = dpi / 72.0
        pixels = page.width * scale * page.height * scale
        if pixels > self.max_pixels:
            scale *= (self.max_pixels / pixels) ** 0.5
        import pymupdf

        with self.lock:
            try:
                pix = self.pdf[number - 1].get_pixmap(matrix=pymupdf.Matrix(scale, scale), alpha=False)
            except Exception as exc:
                raise UnreadableDocument(f"{self.filename}: page {number} cannot be rendered: {exc}") from exc
            return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)

    def page_words(self, number: int) -> list[tuple[Any, ...]]:
        """The words of PDF page `number` (1-based) with their boxes, as PyMuPDF gives them; read once per page."""
        with self.lock:
            if number not in self._words:
                self._words[number] = self.pdf[number - 1].get_text("words", sort=False)
            return self._words[number]

    def close(self) -> None:
        """Release the PDF handle."""
        if self.pdf is not None:
            self.pdf.close()
            self.pdf = None


def load_document(data: bytes, filename: str, settings: Settings) -> Document:
    """Sniff, check limits and open a document; every refusal is a clear InvoiceOcrError."""
    if not data:
        raise UnreadableDocument(f"{filename}: the file is empty")
    if len(data) > settings.max_bytes:
        raise DocumentTooLarge(f"{filename}: {len(data)} bytes is over the limit of {settings.max_bytes} bytes")
    media_type = sniff_media_type(data)
    doc = Document(sha256_hex(data), filename, media_type, data, settings.max_pixels)
    if media_type == MEDIA_PDF:
        _open_pdf(doc, settings)
    elif media_type == MEDIA_XML:
        doc.xml, doc.xml_name = data, filename
        doc.pages = [Page(1, 0.0, 0.0, doc)]
    else:
        _open_image(doc, settings)
    return doc


def _open_pdf(doc: Document, settings: Settings) -> None:
    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    try:
        pdf = pymupdf.open(stream=doc.data, filetype="pdf")
    except Exception as exc:
        raise UnreadableDocument(f"{doc.filename}: not a readable PDF ({exc})") from exc
    if pdf.is_repaired and b"%%EOF" not in doc.data[-4096:]:
        # Cut short (an interrupted upload or copy): what survives would be read as a partial invoice.
        pdf.close()
        raise UnreadableDocument(f"{doc.filename}: the PDF is truncated (no end-of-file marker)")
    if pdf.needs_pass and not pdf.authenticate(""):
        pdf.close()
        raise EncryptedDocument(f"{doc.filename}: the PDF is password-protected")
    count = pdf.page_count
    if count == 0:
        pdf.close()
        raise UnreadableDocument(f"{doc.filename}: the PDF has no pages (truncated or corrupt)")
    if count > settings.max_pages:
        pdf.close()
        raise DocumentTooLarge(f"{doc.filename}: {count} pages is over the limit of {settings.max_pages}")
    try:
        for index in range(count):
            rect = pdf[index].rect
            doc.pages.append(Page(index + 1, float(rect.width), float(rect.height), doc))
    except Exception as exc:
        pdf.close()
        raise UnreadableDocument(f"{doc.filename}: the PDF is damaged ({exc})") from exc
    doc.pdf = pdf
    doc.xml, doc.xml_name = _embedded_einvoice(pdf)


def _embedded_einvoice(pdf: Any) -> tuple[bytes | None, str | None]:
    """The Factur-X / ZUGFeRD / XRechnung XML attached to a PDF, if any."""
    try:
        names = pdf.embfile_names()
    except Exception:
        return None, None
    ordered = sorted(names, key=lambda n: (n.lower() not in EINVOICE_ATTACHMENTS, n))
    for name in ordered:
        if not name.lower().endswith(".xml"):
            continue
        try:
            content = pdf.embfile_get(name)
        except Exception:
            continue
        if name.lower() in EINVOICE_ATTACHMENTS or _XML_INVOICE.search(content[:_SNIFF_BYTES]):
            return content, name
    return None, None


def _open_image(doc: Document, settings: Settings) -> None:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # our own limits below are checked before any decoding
    try:
        image = Image.open(io.BytesIO(doc.data))
    except Exception as exc:
        raise UnreadableDocument(f"{doc.filename}: not a readable image ({exc})") from exc
    frame_count = getattr(image, "n_frames", 1)
    if frame_count > settings.max_pages:
        raise DocumentTooLarge(f"{doc.filename}: {frame_count} frames is over the limit of {settings.max_pages}")
    # Frame sizes come from the headers alone; the pixels are decoded one frame at a time, when read.
    sizes = []
    for index in range(frame_count):
        try:
            image.seek(index)
        except Exception as exc:
            raise UnreadableDocument(f"{doc.filename}: frame {index + 1} is damaged ({exc})") from exc
        width, height = image.size
        if width * height > settings.max_pixels:
            raise DocumentTooLarge(
                f"{doc.filename}: {width}x{height} pixels is over the limit of {settings.max_pixels} pixels"
            )
        sizes.append((width, height))
    total = sum(w * h for w, h in sizes)
    if total > settings.max_document_pixels:
        raise DocumentTooLarge(
            f"{doc.filename}: its {frame_count} frames hold {total} pixels, over the limit of "
            f"{settings.max_document_pixels} pixels per document"
        )
    if _exif_turned(image):
        sizes[0] = sizes[0][::-1]
    doc.frames = LazyFrames(doc.filename, image, frame_count, doc.lock)
    doc.pages = [Page(n + 1, float(w), float(h), doc) for n, (w, h) in enumerate(sizes)]


def _exif_turned(image: Any) -> bool:
    """Whether the first frame's EXIF orientation turns it a quarter (width and height swap)."""
    image.seek(0)
    try:
        return image.getexif().get(0x0112) in (5, 6, 7, 8)
    except Exception:
        return False
