"""Loading scans: a file (PDF, multi-page TIFF, PNG, JPEG; grey or colour) → grey pages.

Every way a file can be wrong (zero bytes, truncated, corrupt, password-protected, too many pages, a page so
large it would exhaust memory) becomes a ``BusinessError`` naming the file and the page, decided before the
expensive step: a page's pixel count is checked from its header, never after decoding it.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from kakitori.errors import BusinessError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
PDF_SUFFIXES = {".pdf"}


@dataclass(frozen=True)
class Page:
    """One page as a grey uint8 image (ink dark on light), with its 1-based number and its resolution when
    known (``dpi`` None: estimate from the paper size)."""

    image: np.ndarray
    number: int
    dpi: float | None = None


def sniff(data: bytes) -> str:
    """'pdf', 'image' or '' from the file's first bytes (the suffix may lie)."""
    if data.startswith(b"%PDF"):
        return "pdf"
    if data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff" or data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image"
    return ""


def read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BusinessError("file not found", file=path.name) from None
    except IsADirectoryError:
        raise BusinessError("a folder, not a file", file=path.name) from None
    except OSError as exc:
        raise BusinessError(f"cannot read the file ({exc.strerror})", file=path.name) from None
    if not data:
        raise BusinessError("the file is empty (0 bytes)", file=path.name)
    return data


def count_pages(path: str | Path) -> int:
    """The number of pages, without decoding them."""
    path = Path(path)
    data = read_bytes(path)
    kind = sniff(data)
    if kind == "pdf":
        with _open_pdf(data, path) as pdf:
            return len(pdf)
    with _open_image(data, path) as im:
        return getattr(im, "n_frames", 1)


def load_pages(path: str | Path, *, render_dpi: int = 200, max_pixels: int = 80_000_000,
               max_pages: int = 100) -> Iterator[Page]:
    """Yield the file's pages one at a time (a 50-page PDF is never held in memory at once)."""
    path = Path(path)
    data = read_bytes(path)
    kind = sniff(data)
    if kind == "pdf":
        yield from _pdf_pages(data, path, render_dpi, max_pixels, max_pages)
    elif kind == "image":
        yield from _image_pages(data, path, max_pixels, max_pages)
    else:
        raise BusinessError("not a PDF, TIFF, PNG or JPEG file (unknown content)", file=path.name)


class _open_pdf:
    """pypdfium2 document as a context manager, its failures as business errors."""

    def __init__(self, data: bytes, path: Path) -> None:
        import pypdfium2 as pdfium

        try:
            self.pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            msg = str(exc).lower()
            if "password" in msg:
                raise BusinessError("the PDF is password-protected; ask for an unprotected copy",
                                    file=path.name) from None
            raise BusinessError("the PDF is corrupt or truncated and cannot be opened", file=path.name) from None

    def __enter__(self):
        return self.pdf

    def __exit__(self, *exc) -> None:
        self.pdf.close()


def _pdf_pages(data: bytes, path: Path, dpi: int, max_pixels: int, max_pages: int) -> Iterator[Page]:
    import pypdfium2 as pdfium

    with _open_pdf(data, path) as pdf:
        n = len(pdf)
        if n == 0:
            raise BusinessError("the PDF has no pages", file=path.name)
        if n > max_pages:
            raise BusinessError(f"the PDF has {n} pages, more than the {max_pages} allowed (ocr.max_pages)",
                                file=path.name)
        scale = dpi / 72.0
        for i in range(n):
            try:
                page = pdf[i]
                w_pt, h_pt = page.get_size()
                if w_pt * scale * h_pt * scale > max_pixels:
                    raise BusinessError(
                        f"page too large to render at {dpi} dpi (over ocr.max_pixels_per_page)",
                        file=path.name, page=i + 1)
                bitmap = page.render(scale=scale, grayscale=True)
                arr = bitmap.to_numpy().copy()
            except pdfium.PdfiumError:
                raise BusinessError("the PDF page cannot be rendered (corrupt)", file=path.name,
                                    page=i + 1) from None
            yield Page(_to_grey(arr), i + 1, float(dpi))


class _open_image:
    def __init__(self, data: bytes, path: Path) -> None:
        try:
            with warnings.catch_warnings():  # our own cap (max_pixels_per_page) decides, page by page
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                self.im = Image.open(io.BytesIO(data))
        except (UnidentifiedImageError, OSError):
            raise BusinessError("the image is corrupt and cannot be opened", file=path.name) from None
        except Image.DecompressionBombError:
            raise BusinessError("the image is far too large (decompression bomb?)", file=path.name) from None

    def __enter__(self) -> Image.Image:
        return self.im

    def __exit__(self, *exc) -> None:
        self.im.close()


def _image_pages(data: bytes, path: Path, max_pixels: int, max_pages: int) -> Iterator[Page]:
    with _open_image(data, path) as im:
        n = getattr(im, "n_frames", 1)
        if n > max_pages:
            raise BusinessError(f"the image has {n} pages, more than the {max_pages} allowed (ocr.max_pages)",
                                file=path.name)
        for i, frame in enumerate(ImageSequence.Iterator(im)):
            w, h = frame.size
            if w * h > max_pixels:  # checked from the header, before any pixel is decoded
                raise BusinessError(f"page of {w}x{h} pixels is over ocr.max_pixels_per_page",
                                    file=path.name, page=i + 1)
            try:
                arr = _frame_to_grey(frame)
            except (OSError, ValueError, SyntaxError):
                raise BusinessError("the image is truncated or corrupt", file=path.name, page=i + 1) from None
            dpi = frame.info.get("dpi", (None,))[0]
            yield Page(arr, i + 1, float(dpi) if dpi and 50 <= float(dpi) <= 1200 else None)


def _frame_to_grey(frame: Image.Image) -> np.ndarray:
    if frame.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(frame, dtype=np.float32)
        arr = (255 * (arr - arr.min()) / max(float(np.ptp(arr)), 1.0)).astype(np.uint8)
        return arr
    if frame.mode in ("RGBA", "LA", "P", "PA"):
        frame = frame.convert("RGBA")
        bg = Image.new("RGBA", frame.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(bg, frame)
    return _to_grey(np.asarray(frame.convert("L") if frame.mode not in ("L", "RGB") else frame))


def _to_grey(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 3:
        if arr.shape[2] == 4:
            arr = arr[:, :, :3]
        arr = cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(arr, dtype=np.uint8)

