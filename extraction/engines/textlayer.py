"""Born-digital PDF pages: PyMuPDF words with boxes, grouped into lines, headings and table rows."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, ClassVar

from extraction.engines.base import Availability, EngineOptions, OcrEngine
from extraction.markdown import PageMarkdown
from extraction.ocr_support.layout import Word, group_lines, lines_to_blocks, normalize, split_cells
from utils.engine_options import TextLayerOptions

if TYPE_CHECKING:
    from extraction.documents import Document, Page

MIN_TEXT_CHARS = 20
# Share of characters that must be ordinary (letters, digits, punctuation, symbols) for a real text layer;
# fonts without a usable encoding yield private-use code points, U+FFFD or control characters instead.
MIN_CLEAN_SHARE = 0.85
_CLEAN_CATEGORIES = frozenset({"L", "N", "P", "S"})
# Pages with less text than this are checked for a page-sized image (a scan with a small text stamp).
SHORT_TEXT_CHARS = 200
IMAGE_COVER_SHARE = 0.5


def text_is_real(text: str) -> bool:
    """Whether extracted text looks like a real text layer: enough characters, mostly ordinary ones."""
    chars = [c for c in text if not c.isspace()]
    if len(chars) < MIN_TEXT_CHARS:
        return False
    clean = sum(1 for c in chars if c != "\ufffd" and unicodedata.category(c)[0] in _CLEAN_CATEGORIES)
    if clean / len(chars) < MIN_CLEAN_SHARE:
        return False
    return sum(1 for c in chars if c.isalnum()) / len(chars) >= 0.5


def _mostly_image(pdf_page: object) -> bool:
    """Whether images cover more than IMAGE_COVER_SHARE of the page."""
    rect = pdf_page.rect  # type: ignore[attr-defined]
    area = max(rect.width * rect.height, 1e-6)
    try:
        infos = pdf_page.get_image_info()  # type: ignore[attr-defined]
    except Exception:
        return False
    for info in infos:
        x0, y0, x1, y1 = info["bbox"]
        w = min(x1, rect.x1) - max(x0, rect.x0)
        h = min(y1, rect.y1) - max(y0, rect.y0)
        if w > 0 and h > 0 and w * h / area > IMAGE_COVER_SHARE:
            return True
    return False


class TextLayerEngine(OcrEngine):
    """Reads the PDF text layer: exact characters and boxes, no pixels."""

    name: ClassVar[str] = "textlayer"
    description: ClassVar[str] = "PDF text layer (born-digital PDFs): exact text with boxes, tables as rows."
    options_model: ClassVar[type[EngineOptions]] = TextLayerOptions
    needs_raster: ClassVar[bool] = False

    def available(self) -> Availability:
        """PyMuPDF is a core dependency; still say so if it is missing."""
        try:
            import pymupdf  # noqa: F401
        except ImportError:
            return Availability(False, "pymupdf is not installed; pip install pymupdf")
        return Availability(True)

    def accepts(self, document: Document, page: Page) -> bool:
        """True when the page has a real text layer."""
        if document.pdf is None:
            return False
        with document.lock:
            pdf_page = document.pdf[page.number - 1]
            text = " ".join(w[4] for w in document.page_words(page.number))
            if not text_is_real(text):
                return False
            # A scan with a short stamp or header in real text ("Scanned 2024-03-05 page 1"): the content is
            # in the image, so the page needs OCR. Full OCR text layers are long and pass this check.
            if len(text) < SHORT_TEXT_CHARS:
                return not _mostly_image(pdf_page)
        return True

    def recognize(self, document: Document, pages: list[Page], options: EngineOptions) -> list[PageMarkdown]:
        """One PageMarkdown per page from the words of its text layer (empty for pages without one)."""
        return [self._read(document, page) for page in pages]

    def _read(self, document: Document, page: Page) -> PageMarkdown:
        if document.pdf is None:
            return PageMarkdown(page.number, self.name, page.width, page.height, notes=["no PDF text layer"])
        with document.lock:
            pdf_page = document.pdf[page.number - 1]
            rect = pdf_page.rect
            rotation = pdf_page.rotation
            matrix = pdf_page.rotation_matrix
            unrotated = pdf_page.cropbox
            raw = document.page_words(page.number)
        width, height = float(rect.width), float(rect.height)
        words = [Word(w[0], w[1], w[2], w[3], w[4]) for w in raw if w[4].strip() and w[2] > w[0] and w[3] > w[1]]
        lines = [split_cells(line) for line in group_lines(words)]
        if rotation % 360 == 0:
            blocks = lines_to_blocks(lines, page.number, width, height)
        else:
            # Words come in unrotated coordinates: group them there (the text reads normally), then turn
            # the boxes into the displayed page's coordinates so they match the rendered page.
            blocks = lines_to_blocks(lines, page.number, float(unrotated.width), float(unrotated.height))
            _rotate_boxes(blocks, float(unrotated.width), float(unrotated.height), matrix, width, height)
        notes = [] if words else ["page has no text layer"]
        return PageMarkdown(page.number, self.name, width, height, blocks, notes)


def _rotate_boxes(blocks: list, src_w: float, src_h: float, matrix: object, width: float, height: float) -> None:
    import pymupdf

    def turn(box: tuple[float, float, float, float] | None) -> tuple[float, float, float, float] | None:
        if box is None:
            return None
        r = pymupdf.Rect(box[0] * src_w, box[1] * src_h, box[2] * src_w, box[3] * src_h) * matrix
        return normalize((r.x0, r.y0, r.x1, r.y1), width, height)

    for block in blocks:
        block.bbox = turn(block.bbox)
        if block.row_bboxes:
            block.row_bboxes = [turn(box) for box in block.row_bboxes]
