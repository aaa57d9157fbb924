"""Loading: every bad file is a clear business error naming the file (and page); good files of every kind
load as grey pages."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from kakitori.errors import BusinessError
from ocr.load import count_pages, load_pages


def _pdf(path, pages: int = 1, encrypt: str | None = None, size=(595, 842)):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=size, encrypt=encrypt)
    for i in range(pages):
        c.rect(50, 50, 200, 100, fill=1)
        c.drawString(100, 700, f"page {i + 1}")
        c.showPage()
    c.save()
    return path


def _png(path, shape=(300, 200), mode="L"):
    Image.fromarray(np.full(shape, 200, np.uint8)).convert(mode).save(path)
    return path


def test_zero_byte_file_is_refused_by_name(tmp_path):
    (tmp_path / "scan.png").write_bytes(b"")
    with pytest.raises(BusinessError, match="empty") as err:
        list(load_pages(tmp_path / "scan.png"))
    assert err.value.context["file"] == "scan.png"


def test_truncated_png_is_refused(tmp_path):
    data = (_png(tmp_path / "full.png", (800, 600))).read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(BusinessError, match="truncated|corrupt"):
        list(load_pages(tmp_path / "cut.png"))


def test_corrupt_and_truncated_pdfs_are_refused(tmp_path):
    (tmp_path / "junk.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    with pytest.raises(BusinessError, match="corrupt"):
        list(load_pages(tmp_path / "junk.pdf"))
    data = _pdf(tmp_path / "ok.pdf", 2).read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[: len(data) // 3])
    with pytest.raises(BusinessError):
        list(load_pages(tmp_path / "cut.pdf"))


def test_unknown_content_is_refused(tmp_path):
    (tmp_path / "scan.png").write_text("not an image at all", encoding="utf-8")
    with pytest.raises(BusinessError, match="not a PDF"):
        list(load_pages(tmp_path / "scan.png"))


def test_password_protected_pdf_is_refused(tmp_path):
    _pdf(tmp_path / "locked.pdf", encrypt="secret")
    with pytest.raises(BusinessError, match="password") as err:
        list(load_pages(tmp_path / "locked.pdf"))
    assert err.value.context["file"] == "locked.pdf"


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    # 12,000 x 12,000 one-bit pixels: a tiny file that would be 144 Mpx once decoded
    Image.new("1", (12000, 12000), 1).save(tmp_path / "bomb.png")
    assert (tmp_path / "bomb.png").stat().st_size < 200_000
    with pytest.raises(BusinessError, match="max_pixels_per_page") as err:
        list(load_pages(tmp_path / "bomb.png", max_pixels=80_000_000))
    assert err.value.context["page"] == 1


def test_oversized_pdf_page_is_refused(tmp_path):
    _pdf(tmp_path / "poster.pdf", size=(14400, 14400))  # a 5 m square page
    with pytest.raises(BusinessError, match="too large"):
        list(load_pages(tmp_path / "poster.pdf", render_dpi=200, max_pixels=80_000_000))


def test_fifty_page_pdf_loads_lazily_and_page_cap_is_enforced(tmp_path):
    path = _pdf(tmp_path / "many.pdf", 50)
    assert count_pages(path) == 50
    pages = load_pages(path, render_dpi=72)
    first = next(pages)
    assert first.number == 1 and first.image.ndim == 2
    assert sum(1 for _ in pages) == 49
    with pytest.raises(BusinessError, match="50 pages"):
        list(load_pages(path, max_pages=20))


def test_multipage_tiff_colour_and_grey_images_load_as_grey(tmp_path):
    frames = [Image.fromarray(np.full((100, 80, 3), v, np.uint8)) for v in (10, 128, 250)]
    frames[0].save(tmp_path / "multi.tiff", save_all=True, append_images=frames[1:])
    pages = list(load_pages(tmp_path / "multi.tiff"))
    assert [p.number for p in pages] == [1, 2, 3] and all(p.image.ndim == 2 for p in pages)
    _png(tmp_path / "rgba.png", mode="RGBA")
    Image.fromarray(np.full((50, 40, 3), 90, np.uint8)).save(tmp_path / "photo.jpg", quality=80)
    for name in ("rgba.png", "photo.jpg"):
        (page,) = list(load_pages(tmp_path / name))
        assert page.image.dtype == np.uint8 and page.image.ndim == 2


def test_pdf_pages_render_at_the_configured_dpi(tmp_path):
    (page,) = list(load_pages(_pdf(tmp_path / "a4.pdf"), render_dpi=100))
    assert page.dpi == 100 and abs(page.image.shape[0] - 842 * 100 / 72) <= 1
