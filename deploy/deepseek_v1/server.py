"""DeepSeek-OCR (v1) as a small HTTP service, run in its own environment.

DeepSeek-OCR v1's published remote code needs transformers <= 4.47, which the main application does not
use, so it runs here, in a separate virtual environment (`setup.sh`), and the main application's
`deepseek-legacy` engine calls it over HTTP. Only the standard library is imported at module load; torch
and transformers are imported when the model is loaded.

Protocol (JSON over HTTP):
  GET  /health  -> 200 {"status": "ok", "model": NAME, "device": DEVICE}
  POST /v1/ocr  {"image": BASE64 PNG or JPEG, "prompt": STR?, "base_size": INT?, "image_size": INT?,
                 "crop_mode": BOOL?}
                -> 200 {"text": RAW MODEL OUTPUT (grounding tags kept), "seconds": FLOAT}
                -> 400 / 413 {"error": ...} for a bad request, 500 {"error": ...} when the model fails

Run: deploy/deepseek_v1/.venv/bin/python deploy/deepseek_v1/server.py --model-dir /models/DeepSeek-OCR
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import logging
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

DEFAULT_PROMPT = "<image>\n<|grounding|>Convert the document to markdown."
DEFAULT_PORT = 8010
MAX_BYTES = 40 * 1024 * 1024
# "Gundam" mode of DeepSeek-OCR: a 1024 px global view plus 640 px tiles.
DEFAULTS = {"base_size": 1024, "image_size": 640, "crop_mode": True}

log = logging.getLogger("deepseek_v1")


class Reader(Protocol):
    """Reads one page image; the real one wraps DeepSeek-OCR v1's `infer`."""

    name: str
    device: str

    def read(self, image: bytes, prompt: str, base_size: int, image_size: int, crop_mode: bool) -> str:
        """The model's raw output for one image."""


class BadRequest(ValueError):
    """A request this service cannot serve (shown to the caller as 400 or 413)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def image_suffix(data: bytes) -> str:
    """The file suffix for PNG or JPEG bytes; BadRequest for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if data.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    raise BadRequest("image must be a PNG or JPEG, base64-encoded")


class DeepSeekV1Reader:
    """DeepSeek-OCR v1 through its remote code (CUDA only: the published code calls .cuda())."""

    def __init__(self, model_dir: str) -> None:
        import importlib.util

        import torch
        from transformers import AutoModel, AutoTokenizer

        if not torch.cuda.is_available():
            raise SystemExit("DeepSeek-OCR v1's remote code needs a CUDA GPU")
        attn = "flash_attention_2" if importlib.util.find_spec("flash_attn") else "eager"
        self.name = Path(model_dir).name
        self.device = torch.cuda.get_device_name(0)
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=True, local_files_only=True)
        model = AutoModel.from_pretrained(
            model_dir,
            trust_remote_code=True,
            use_safetensors=True,
            local_files_only=True,
            _attn_implementation=attn,
        )
        self.model = model.eval().cuda().to(torch.bfloat16)
        self.lock = threading.Lock()  # one GPU: one page at a time

    def read(self, image: bytes, prompt: str, base_size: int, image_size: int, crop_mode: bool) -> str:
        """Run `infer` on the image written to a temporary file (the remote code reads a path)."""
        with tempfile.TemporaryDirectory(prefix="dsocr-") as tmp:
            path = Path(tmp) / ("page" + image_suffix(image))
            path.write_bytes(image)
            with self.lock:
                text = self.model.infer(
                    self.tokenizer,
                    prompt=prompt,
                    image_file=str(path),
                    output_path=tmp,
                    base_size=base_size,
                    image_size=image_size,
                    crop_mode=crop_mode,
                    save_results=False,
                    eval_mode=True,
                )
        return text or ""


def parse_request(raw: bytes, max_bytes: int) -> dict[str, Any]:
    """The validated /v1/ocr request: image bytes and generation options."""
    if len(raw) > max_bytes:
        raise BadRequest(f"request of {len(raw)} bytes is over the limit of {max_bytes}", 413)
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise BadRequest(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("image"), str):
        raise BadRequest("body must be a JSON object with an 'image' (base64 PNG or JPEG)")
    try:
        image = base64.b64decode(body["image"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("image is not valid base64") from exc
    image_suffix(image)
    prompt = body.get("prompt") or DEFAULT_PROMPT
    if "<image>" not in prompt:
        raise BadRequest("prompt must contain the <image> placeholder")
    options = {key: body.get(key, default) for key, default in DEFAULTS.items()}
    if not all(isinstance(options[k], int) and 256 <= options[k] <= 2048 for k in ("base_size", "image_size")):
        raise BadRequest("base_size and image_size must be integers in 256..2048")
    return {"image": image, "prompt": prompt, **options, "crop_mode": bool(options["crop_mode"])}


def make_server(reader: Reader, host: str = "127.0.0.1", port: int = DEFAULT_PORT, max_bytes: int = MAX_BYTES):
    """A threading HTTP server speaking the protocol above around `reader`."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "deepseek-ocr-v1"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("%s " + fmt, self.address_string(), *args)

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the caller gave up (its timeout)
                log.warning("client went away before the answer was sent")

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(200, {"status": "ok", "model": reader.name, "device": reader.device})
            else:
                self._send(404, {"error": f"no route {self.path}"})

        def do_POST(self) -> None:
            if self.path != "/v1/ocr":
                self._send(404, {"error": f"no route {self.path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > max_bytes:
                self._send(413, {"error": f"request of {length} bytes is over the limit of {max_bytes}"})
                return
            try:
                request = parse_request(self.rfile.read(length), max_bytes)
            except BadRequest as exc:
                self._send(exc.status, {"error": str(exc)})
                return
            started = time.perf_counter()
            try:
                text = reader.read(
                    request["image"],
                    request["prompt"],
                    request["base_size"],
                    request["image_size"],
                    request["crop_mode"],
                )
            except Exception as exc:  # the caller marks the page failed and reads it elsewhere
                log.exception("page failed")
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"})
                return
            self._send(200, {"text": text, "seconds": round(time.perf_counter() - started, 3)})

    httpd = ThreadingHTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    return httpd


def main(argv: list[str] | None = None) -> None:
    """Load the model, then serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", default=os.environ.get("DEEPSEEK_V1_MODEL"), help="local DeepSeek-OCR dir")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not args.model_dir or not Path(args.model_dir, "config.json").is_file():
        parser.error("--model-dir (or DEEPSEEK_V1_MODEL) must be a local DeepSeek-OCR model directory")
    reader = DeepSeekV1Reader(args.model_dir)
    httpd = make_server(reader, args.host, args.port, args.max_bytes)
    log.info("DeepSeek-OCR v1 serving on http://%s:%d", args.host, args.port)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
