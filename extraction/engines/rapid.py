"""RapidOCR (ONNX Runtime, models shipped in the wheel): CPU OCR of raster pages with boxes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from extraction.engines.base import Availability, EngineOptions, OcrEngine
from extraction.markdown import PageMarkdown
from extraction.ocr_support.layout import Word, group_lines, lines_to_blocks, split_cells
from utils.engine_options import RapidOcrOptions
from utils.errors import EngineUnavailable

if TYPE_CHECKING:
    from PIL import Image

    from extraction.documents import Document, Page

# The model files the rapidocr wheel ships; naming them explicitly means nothing is ever downloaded.
_MODEL_FILES = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
INSTALL_HINT = "pip install rapidocr==3.10.0 onnxruntime"


def model_dir() -> Path | None:
    """The folder of the models packaged with rapidocr, or None when rapidocr is not installed."""
    try:
        import rapidocr
    except ImportError:
        return None
    return Path(rapidocr.__file__).parent / "models"


class RapidOcrEngine(OcrEngine):
    """RapidOCR 3.x on ONNX Runtime; one shared instance per engine, built on first use."""

    name: ClassVar[str] = "rapidocr"
    description: ClassVar[str] = "RapidOCR (PP-OCR on ONNX Runtime), CPU; best CPU accuracy on receipts and scans."
    options_model: ClassVar[type[EngineOptions]] = RapidOcrOptions
    needs_raster: ClassVar[bool] = True

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._ocr: Any = None
        self._lock = threading.Lock()

    def available(self) -> Availability:
        """Needs rapidocr + onnxruntime and the packaged model files (nothing is downloaded)."""
        folder = model_dir()
        if folder is None:
            return Availability(False, f"rapidocr is not installed; {INSTALL_HINT}")
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return Availability(False, f"onnxruntime is not installed; {INSTALL_HINT}")
        missing = [name for name in _MODEL_FILES.values() if not (folder / name).is_file()]
        if missing:
            return Availability(False, f"rapidocr model files missing in {folder}: {', '.join(missing)}")
        return Availability(True)

    def _engine(self) -> Any:
        options = cast("RapidOcrOptions", self.options)
        with self._lock:
            if self._ocr is None:
                availability = self.available()
                if not availability:
                    raise EngineUnavailable(f"engine 'rapidocr' is unavailable: {availability.reason}")
                from rapidocr import RapidOCR

                folder = model_dir()
                assert folder is not None  # available() found the models
                params: dict[str, Any] = {key: str(folder / file) for key, file in _MODEL_FILES.items()}
                params.update(
                    {
                        "Global.log_level": "error",
                        # Measured on the dev receipts: wider boxes stop the last character of a phrase
                        # from being cut (fewer "50.0c" for "50.00"), and the 180-degree classifier
                        # caused more misreads than it fixed (character error 5.1% -> 4.2%).
                        "Det.unclip_ratio": 2.0,
                        # Detection on at most 1600 px (text lines stay 15+ px tall on an A4 page at 200 dpi)
                        # while recognition crops keep full resolution: about a third less time, same errors.
                        "Det.limit_type": "max",
                        "Det.limit_side_len": options.detection_side,
                        "Global.use_cls": False,
                        "EngineConfig.onnxruntime.intra_op_num_threads": options.threads,
                        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                    }
                )
                self._ocr = RapidOCR(params=params)
            return self._ocr

    def recognize(self, document: Document, pages: list[Page], options: EngineOptions) -> list[PageMarkdown]:
        """OCR each page's raster image; lines grouped from text boxes, table-like rows kept as cells."""
        opts = cast("RapidOcrOptions", self.own_options(options))
        out = []
        for page in pages:
            md = self.read_image(page.render(opts.dpi), page.number, opts.max_side)
            md.width, md.height = page.width, page.height  # page units (PDF points or image pixels)
            out.append(md)
        return out

    def read_image(self, image: Image.Image, number: int = 1, max_side: int = 2000) -> PageMarkdown:
        """OCR one RGB image into a PageMarkdown with boxes in 0..1 image units."""
        import numpy as np

        width, height = image.size
        scale = 1.0
        if max(width, height) > max_side:
            scale = max_side / max(width, height)
            image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))))
        result = self._engine()(np.asarray(image.convert("RGB")))
        words = []
        if result.boxes is not None:
            for quad, text, score in zip(result.boxes, result.txts, result.scores, strict=False):
                if not text or not text.strip():
                    continue
                xs = [float(p[0]) / scale for p in quad]
                ys = [float(p[1]) / scale for p in quad]
                words.append(Word(min(xs), min(ys), max(xs), max(ys), text.strip(), float(score)))
        # OCR boxes are phrases, not words: a gap of half a line height between two boxes is a column gap.
        lines = [split_cells(line, gap_factor=0.5) for line in group_lines(words)]
        blocks = lines_to_blocks(lines, number, float(width), float(height), headings=False)
        notes = [] if words else ["no text found"]
        if scale != 1.0:
            notes.append(f"downscaled by {scale:.2f} for OCR")
        return PageMarkdown(number, self.name, float(width), float(height), blocks, notes)
