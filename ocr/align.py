"""Registration: a scanned page → the template's reference frame, with a score saying how well it matches.

The four printed corner marks (filled squares) give a homography that undoes rotation by 90/180/270°, skew,
shift and a copier's scaling in one step. The marks are symmetric, so each of the four cyclic assignments of
found marks to the reference marks is tried and the one whose printed lines best match the template's lines
wins; that match (an F1 of line pixels, 0..1) is the registration score. A page whose best score is under
``min_registration_score`` matches no template: a business error, never garbage output.
Pure image maths (OpenCV + numpy).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kakitori.errors import BusinessError, ConfigError
from ocr.template import Template

SCORE_DPI = 50.0        # registration is decided on small images; only the final warp is full size
MARK_MM = 6.0           # side of a printed corner mark (forms-spec.md)
BLANK_INK = 0.002       # a page with less ink than this fraction is blank


@dataclass(frozen=True)
class Reference:
    """What registration needs to know about one template, computed once."""

    template: Template
    image: np.ndarray       # the blank form, grey, at template.reference_dpi
    marks: np.ndarray       # 4x2 mark centres in reference px, ordered TL, TR, BR, BL
    lines: np.ndarray       # printed lines (bool) at SCORE_DPI

    @property
    def dpi(self) -> float:
        return float(self.template.reference_dpi)

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.image.shape[:2]
        return w, h


@dataclass(frozen=True)
class AlignedPage:
    """A page warped into a template's reference frame (same size and dpi as the reference image)."""

    image: np.ndarray
    template: str
    score: float
    rotation: int           # how the page was turned on the scanner: 0, 90, 180 or 270 degrees
    page: int
    homography: np.ndarray  # scan px → reference px


_REFERENCES: dict[tuple[str, Path, float], Reference] = {}


def reference_for(template: Template) -> Reference:
    """The template's registration data, computed once per reference image version."""
    path = template.reference
    try:
        key = (template.name, path, path.stat().st_mtime)
    except OSError:
        raise ConfigError("template reference image missing", file=path) from None
    if key not in _REFERENCES:
        _REFERENCES[key] = _reference(path, template)
    return _REFERENCES[key]


def _reference(path: Path, template: Template) -> Reference:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ConfigError("template reference image missing or unreadable", file=path)
    dpi = float(template.reference_dpi)
    found = find_marks(image, dpi)
    if any(m is None for m in found):
        raise ConfigError("the reference image has no four corner registration marks", file=path)
    marks = np.array(found, dtype=np.float64)
    small = _resize_to(image, dpi, SCORE_DPI)
    return Reference(template, image, marks, _lines(small < 160))


def _resize_to(image: np.ndarray, dpi: float, target_dpi: float) -> np.ndarray:
    k = target_dpi / dpi
    h, w = image.shape[:2]
    return cv2.resize(image, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)


def _lines(ink: np.ndarray) -> np.ndarray:
    """Long horizontal and vertical strokes (form lines) of a binary image at SCORE_DPI."""
    u8 = ink.astype(np.uint8)
    n = max(5, round(SCORE_DPI * 8 / 25.4))  # 8 mm
    horiz = cv2.morphologyEx(u8, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (n, 1)))
    vert = cv2.morphologyEx(u8, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, n)))
    return (horiz | vert).astype(bool)


def estimate_dpi(shape: tuple[int, ...], page_mm: tuple[float, float] = (210.0, 297.0)) -> float:
    """A page's resolution guessed from its size, assuming the scan covers the sheet."""
    h, w = shape[:2]
    return max(h, w) / (max(page_mm) / 25.4)


def find_marks(grey: np.ndarray, dpi: float, small: np.ndarray | None = None) -> list[np.ndarray | None]:
    """Centres (scan px) of the corner marks by image corner TL, TR, BR, BL (None where a corner has none).
    A mark is a filled, roughly square blob 0.6–1.6× the printed size, the one nearest its image corner
    within a quarter of the page. ``small``: the page already scaled to SCORE_DPI at ``dpi``, if at hand."""
    k = SCORE_DPI / dpi
    small = _resize_to(grey, dpi, SCORE_DPI) if small is None else small
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    side = MARK_MM / 25.4 * SCORE_DPI
    n, _, stats, cents = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = small.shape
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    best: list[tuple[float, int] | None] = [None] * 4
    for i in range(1, n):
        _, _, bw, bh, area = stats[i]
        if not (0.6 * side <= max(bw, bh) <= 1.6 * side * 1.15 and 0.36 * side * side <= area <= 2.6 * side * side):
            continue
        if not 0.7 <= bw / bh <= 1.45 or area < 0.7 * bw * bh * 0.85:
            continue
        c = cents[i]
        for j, corner in enumerate(corners):
            d = float(np.hypot(*(c - corner)))
            if abs(c[0] - corner[0]) < w / 4 and abs(c[1] - corner[1]) < h / 4 and (best[j] is None or d < best[j][0]):
                best[j] = (d, i)
    return [None if b is None else _refine(grey, cents[b[1]] / k, side / k) for b in best]


def _refine(grey: np.ndarray, centre: np.ndarray, side: float) -> np.ndarray:
    """The mark's centroid measured at full resolution around a coarse centre."""
    r = int(side)
    x0, y0 = max(0, int(centre[0]) - r), max(0, int(centre[1]) - r)
    roi = grey[y0:int(centre[1]) + r + 1, x0:int(centre[0]) + r + 1]
    _, ink = cv2.threshold(roi, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, _, stats, cents = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n < 2:
        return centre
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return cents[i] + (x0, y0)


def _score(lines_ref: np.ndarray, lines_scan: np.ndarray, visible: np.ndarray | None = None) -> float:
    """F1 of printed-line pixels, with one pixel of tolerance at SCORE_DPI, over the part of the form the
    scan shows (a corner cut off by a skewed feed is not a mismatch), discounted when much is missing."""
    cover = 1.0
    if visible is not None:
        cover = float(visible.mean())
        lines_ref = lines_ref & visible
    kernel = np.ones((3, 3), np.uint8)
    ref_d = cv2.dilate(lines_ref.astype(np.uint8), kernel).astype(bool)
    scan_d = cv2.dilate(lines_scan.astype(np.uint8), kernel).astype(bool)
    n_ref, n_scan = lines_ref.sum(), lines_scan.sum()
    if n_ref == 0 or n_scan == 0:
        return 0.0
    recall = (lines_ref & scan_d).sum() / n_ref
    precision = (lines_scan & ref_d).sum() / n_scan
    return float(2 * recall * precision / max(recall + precision, 1e-9)) * min(1.0, cover / 0.9)


@dataclass(frozen=True)
class Candidate:
    """One way of laying a page onto a template: the homography and its score."""

    reference: Reference
    homography: np.ndarray
    rotation: int
    score: float


def page_ink(small: np.ndarray) -> float:
    """The share of dark pixels of a page scaled down to SCORE_DPI."""
    return float((small < 128).mean())


def candidates(grey: np.ndarray, dpi: float | None, refs: list[Reference], *, file: str = "", page: int = 1
               ) -> list[Candidate]:
    """Every template's best orientation for this page, best first. Raises BusinessError on a blank page or
    a page without corner marks."""
    dpi = dpi or estimate_dpi(grey.shape)
    scan_small = _resize_to(grey, dpi, SCORE_DPI)   # once: the blank check, the marks and every score use it
    if page_ink(scan_small) < BLANK_INK:
        raise BusinessError("the page is blank", file=file, page=page)
    marks = find_marks(grey, dpi, scan_small)
    if sum(m is not None for m in marks) < 3:
        # the resolution guess may be off (a scan with wide margins): try the other paper axis
        other = find_marks(grey, min(grey.shape[:2]) / (210 / 25.4))
        if sum(m is not None for m in other) > sum(m is not None for m in marks):
            marks = other
    threshold, _ = cv2.threshold(scan_small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    k = SCORE_DPI / dpi
    found = []
    for ref in refs:
        best: Candidate | None = None
        for H, rotation in _hypotheses(marks, ref, grey, dpi):
            ks = SCORE_DPI / ref.dpi
            S = np.diag([ks, ks, 1.0]) @ H @ np.diag([1 / k, 1 / k, 1.0])
            h, w = ref.lines.shape
            # warp the grey image, then threshold: thin skewed lines stay unbroken
            warped = cv2.warpPerspective(scan_small, S, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
            visible = None if _covers(S, scan_small.shape, (h, w)) else cv2.warpPerspective(
                np.ones_like(scan_small), S, (w, h), flags=cv2.INTER_NEAREST, borderValue=0) > 0
            score = _score(ref.lines, _lines(warped < max(threshold, 160)), visible)
            if best is None or score > best.score:
                best = Candidate(ref, H, rotation, score)
        if best is not None:
            found.append(best)
    if not found:
        raise BusinessError("no form registration marks found: not a registered form, or corners are cut off",
                            file=file, page=page)
    return sorted(found, key=lambda c: -c.score)


def _covers(S: np.ndarray, scan_shape: tuple[int, ...], ref_shape: tuple[int, int]) -> bool:
    """Whether the scan, mapped by S, covers the whole reference (its four corners fall inside the scan):
    then every part of the form is visible and no mask of the visible part is needed."""
    invertible, inverse = cv2.invert(S)
    if not invertible:  # a degenerate hypothesis (marks in a line): let the mask say what is visible
        return False
    h, w = ref_shape
    corners = np.float32([[[0, 0]], [[w - 1, 0]], [[w - 1, h - 1]], [[0, h - 1]]])
    back = cv2.perspectiveTransform(corners, inverse).reshape(-1, 2)
    sh, sw = scan_shape[:2]
    return bool(((back >= 0) & (back <= [sw - 1, sh - 1])).all())


def _hypotheses(marks: list[np.ndarray | None], ref: Reference, grey: np.ndarray, dpi: float
                ) -> list[tuple[np.ndarray, int]]:
    """Ways to lay the scan onto the reference: from four marks a homography per quarter turn, from three
    an affine map per quarter turn, from fewer the features of the printed form (ORB + RANSAC)."""
    have = [j for j, m in enumerate(marks) if m is not None]
    out = []
    if len(have) >= 3:
        for shift in range(4):
            # the form's corner j lies at scan corner (j + shift): the page was turned 90° * shift clockwise
            pairs = [(marks[(j + shift) % 4], ref.marks[j]) for j in range(4) if marks[(j + shift) % 4] is not None]
            src = np.array([p[0] for p in pairs], dtype=np.float32)
            dst = np.array([p[1] for p in pairs], dtype=np.float32)
            if len(pairs) == 4:
                H = cv2.getPerspectiveTransform(src, dst)
            else:
                H = np.vstack([cv2.getAffineTransform(src[:3], dst[:3]), [0, 0, 1]])
            out.append((H, 90 * shift))
        return out
    H = _feature_homography(grey, dpi, ref)
    if H is not None:
        angle = np.degrees(np.arctan2(H[1, 0], H[0, 0]))  # scan → reference: minus the page's turn
        out.append((H, round(-angle / 90.0) % 4 * 90))
    return out


def _feature_homography(grey: np.ndarray, dpi: float, ref: Reference) -> np.ndarray | None:
    """Scan px → reference px by matching ORB features of the printed form at 100 dpi (None if too few)."""
    work = 100.0
    a = _resize_to(grey, dpi, work)
    b = _resize_to(ref.image, ref.dpi, work)
    orb = cv2.ORB_create(3000)
    ka, da = orb.detectAndCompute(a, None)
    kb, db = orb.detectAndCompute(b, None)
    if da is None or db is None or len(ka) < 20 or len(kb) < 20:
        return None
    matches = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(da, db, k=2)
    good = [m[0] for m in matches if len(m) == 2 and m[0].distance < 0.75 * m[1].distance]
    if len(good) < 20:
        return None
    src = np.float32([ka[m.queryIdx].pt for m in good]) * (dpi / work)
    dst = np.float32([kb[m.trainIdx].pt for m in good]) * (ref.dpi / work)
    H, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 3.0 * ref.dpi / work)
    if H is None or inliers is None or int(inliers.sum()) < 15:
        return None
    return H


def register(grey: np.ndarray, dpi: float | None, refs: list[Reference], *, min_score: float,
             file: str = "", page: int = 1) -> AlignedPage:
    """Warp the page onto the best-matching template; BusinessError if none matches well enough."""
    if not refs:
        raise ConfigError("no form templates configured (ocr.templates_dirs)")
    best = candidates(grey, dpi, refs, file=file, page=page)[0]
    if best.score < min_score:
        names = ", ".join(r.template.name for r in refs)
        raise BusinessError(
            f"the page matches no template well enough (best {best.reference.template.name} scored "
            f"{best.score:.2f} < {min_score:.2f}; tried {names})", file=file, page=page)
    image = cv2.warpPerspective(grey, best.homography, best.reference.size, flags=cv2.INTER_LINEAR,
                                borderValue=255)
    return AlignedPage(image, best.reference.template.name, round(best.score, 4), best.rotation, page,
                       best.homography)
