"""Rasterize a page and degrade it the way scanners and phone cameras do (deterministic per seed)."""

from __future__ import annotations

import io

import numpy as np
import pymupdf
from PIL import Image, ImageFilter

NOISE_KINDS = (None, "scan", "photo")


def rasterize(pdf: bytes, dpi: int = 150, noise: str | None = None, seed: int = 0, page: int = 1) -> bytes:
    """PNG bytes of one page; noise None (clean), 'scan' or 'photo'."""
    if noise not in NOISE_KINDS:
        raise ValueError(f"unknown noise {noise!r}; choose one of {NOISE_KINDS}")
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        pix = doc[page - 1].get_pixmap(dpi=dpi, alpha=False)
        img = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
    if noise is not None:
        rng = np.random.default_rng([seed, 7 if noise == "scan" else 11])
        img = scan(img, rng, dpi) if noise == "scan" else photo(img, rng, dpi)
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)  # grainy images compress poorly; favour speed
    return out.getvalue()


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert(img.mode)


def _add_noise(img: Image.Image, rng: np.random.Generator, sigma: float) -> Image.Image:
    a = np.asarray(img, dtype=np.float32)
    a = a + rng.normal(0.0, sigma, a.shape[:2] + ((1,) if a.ndim == 3 else ())).astype(np.float32)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), img.mode)


def scan(img: Image.Image, rng: np.random.Generator, dpi: int) -> Image.Image:
    """A flatbed or sheet-fed scan: gray, slightly skewed, soft, grainy, specks, dark edges, JPEG artefacts."""
    if rng.random() < 0.7:
        img = img.convert("L")
    fill = 255 if img.mode == "L" else (255, 255, 255)
    angle = float(rng.uniform(-1.6, 1.6))
    img = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill)
    a = np.asarray(img, dtype=np.float32)
    contrast, brightness = rng.uniform(0.8, 1.05), rng.uniform(-12, 18)
    a = (a - 128) * contrast + 128 + brightness
    if rng.random() < 0.35:  # the scanner lid's shadow along one or two edges
        h, w = a.shape[:2]
        band = int(rng.uniform(0.01, 0.04) * w)
        dark = rng.uniform(20, 90)
        sides = rng.choice(4, size=int(rng.integers(1, 3)), replace=False)
        for side in sides:
            if side == 0:
                a[:, :band] = dark
            elif side == 1:
                a[:, w - band :] = dark
            elif side == 2:
                a[: band // 2] = dark
            else:
                a[h - band // 2 :] = dark
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), img.mode)
    if rng.random() < 0.12:  # fax-like binarization, before the optics soften it
        img = img.convert("L").point(lambda v, t=int(rng.integers(150, 205)): 255 if v > t else 0)
    img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.2, 0.9)) * dpi / 150))
    img = _add_noise(img, rng, float(rng.uniform(2, 9)))
    if rng.random() < 0.5:  # dust and toner specks
        a = np.array(img)
        n = int(rng.integers(50, 600))
        ys, xs = rng.integers(0, a.shape[0], n), rng.integers(0, a.shape[1], n)
        a[ys, xs] = rng.integers(0, 90, n)[:, None] if a.ndim == 3 else rng.integers(0, 90, n)
        img = Image.fromarray(a, img.mode)
    return _jpeg(img, int(rng.integers(35, 86)))


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """Coefficients PIL needs to map output pixels (dst) back to input pixels (src)."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=np.float64)
    b = np.array([c for pt in src for c in pt], dtype=np.float64)
    return np.linalg.solve(a, b).tolist()


def photo(img: Image.Image, rng: np.random.Generator, dpi: int) -> Image.Image:
    """A phone photo: page on a desk, perspective, rotation, uneven light, colour cast, blur, noise, JPEG."""
    w, h = img.size
    pad_x, pad_y = int(w * rng.uniform(0.06, 0.2)), int(h * rng.uniform(0.05, 0.15))
    cw, ch = w + 2 * pad_x, h + 2 * pad_y
    desk = np.array([rng.uniform(60, 200), rng.uniform(50, 180), rng.uniform(40, 160)], dtype=np.float32)
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    texture = (np.sin(xx / rng.uniform(8, 40) + rng.uniform(0, 6)) * rng.uniform(2, 10))[..., None]
    background = np.clip(desk + texture + rng.normal(0, 6, (ch, cw, 1)), 0, 255).astype(np.uint8)
    canvas = Image.fromarray(background, "RGB")
    dx, dy = w * 0.05, h * 0.04
    corners = [
        (pad_x + rng.uniform(-dx, dx), pad_y + rng.uniform(-dy, dy)),
        (pad_x + w + rng.uniform(-dx, dx), pad_y + rng.uniform(-dy, dy)),
        (pad_x + w + rng.uniform(-dx, dx), pad_y + h + rng.uniform(-dy, dy)),
        (pad_x + rng.uniform(-dx, dx), pad_y + h + rng.uniform(-dy, dy)),
    ]
    angle = np.deg2rad(rng.uniform(-5, 5))  # the phone held slightly askew: rotate the corners about the centre
    cos, sin, mx, my = np.cos(angle), np.sin(angle), cw / 2, ch / 2
    corners = [(mx + (x - mx) * cos - (y - my) * sin, my + (x - mx) * sin + (y - my) * cos) for x, y in corners]
    coeffs = _perspective_coeffs([(0, 0), (w, 0), (w, h), (0, h)], corners)
    warped = img.transform(
        (cw, ch), Image.Transform.PERSPECTIVE, coeffs, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0)
    )
    mask = Image.new("L", img.size, 255).transform((cw, ch), Image.Transform.PERSPECTIVE, coeffs, fillcolor=0)
    canvas.paste(warped, (0, 0), mask)
    a = np.asarray(canvas, dtype=np.float32)
    # uneven light: a tilted gradient plus a soft bright spot, and a colour cast
    gx, gy = rng.uniform(-0.35, 0.35), rng.uniform(-0.35, 0.35)
    light = 1.0 + gx * (xx / cw - 0.5) + gy * (yy / ch - 0.5)
    cx, cy, r = rng.uniform(0.2, 0.8) * cw, rng.uniform(0.2, 0.8) * ch, rng.uniform(0.3, 0.8) * max(cw, ch)
    light += rng.uniform(0.0, 0.25) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    light *= rng.uniform(0.7, 0.95)
    if rng.random() < 0.3:  # a shadow of the phone or a hand
        edge, soft = rng.uniform(0.2, 0.8) * cw, rng.uniform(0.02, 0.08) * cw
        depth = rng.uniform(0.2, 0.45)
        light = light * (1.0 - depth / (1.0 + np.exp((xx - edge) / soft)))
    cast = np.array([rng.uniform(0.92, 1.08), 1.0, rng.uniform(0.85, 1.05)], dtype=np.float32)
    a = a * light[..., None] * cast
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
    img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.4, 1.6)) * dpi / 150))
    img = _add_noise(img, rng, float(rng.uniform(3, 12)))
    return _jpeg(img, int(rng.integers(40, 82)))
