"""Registration: corner marks + line matching undo rotation, skew, shift and scale, and refuse non-forms."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kakitori.errors import BusinessError
from ocr import align
from ocr.template import load_template

from .conftest import TEMPLATES, warp


@pytest.fixture(scope="module")
def refs():
    return {n: align.reference_for(load_template(TEMPLATES / f"{n}.yaml")) for n in ("juminido", "jidoteate", "inkan")}


def _mapped(H: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), H).reshape(-1, 2)


@pytest.mark.parametrize("angle,scale,shift", [(3.0, 0.98, (25, -40)), (-4.5, 1.02, (-30, 15)), (0.0, 1.0, (0, 0))])
def test_registration_recovers_known_rotation_shift_and_scale(refs, reference_image, angle, scale, shift):
    scan, m = warp(reference_image, angle, scale, shift)
    page = align.register(scan, 200.0, [refs["juminido"]], min_score=0.35)
    # a point of the reference, sent into the scan by m and back by the found homography, lands where it was
    pts = np.array([[300, 400], [1400, 600], [800, 2000], [100, 2300]], dtype=np.float64)
    in_scan = pts @ m[:, :2].T + m[:, 2]
    back = _mapped(page.homography, in_scan)
    assert np.abs(back - pts).max() < 2.0
    assert page.score > 0.8 and page.rotation == 0


@pytest.mark.parametrize("turn,expected", [(cv2.ROTATE_180, 180), (cv2.ROTATE_90_CLOCKWISE, 90),
                                           (cv2.ROTATE_90_COUNTERCLOCKWISE, 270)])
def test_turned_page_is_turned_back(refs, reference_image, turn, expected):
    scan = cv2.rotate(reference_image, turn)
    page = align.register(scan, 200.0, list(refs.values()), min_score=0.35)
    assert page.template == "juminido"
    assert page.rotation == expected
    diff = np.abs(page.image.astype(int) - reference_image.astype(int))
    assert (diff > 128).mean() < 0.01


def test_auto_picks_the_template_the_page_was_printed_from(refs):
    for name, ref in refs.items():
        scan, _ = warp(ref.image, 1.5, 0.99, (10, 10))
        assert align.register(scan, 200.0, list(refs.values()), min_score=0.35).template == name


def test_wrong_template_is_a_business_error(refs, reference_image):
    with pytest.raises(BusinessError, match="matches no template"):
        align.register(reference_image, 200.0, [refs["inkan"]], min_score=0.35, file="x.png", page=2)


def test_blank_page_is_a_business_error(refs):
    with pytest.raises(BusinessError, match="blank") as err:
        align.register(np.full((2339, 1654), 250, np.uint8), 200.0, list(refs.values()), min_score=0.35,
                       file="blank.png", page=3)
    assert err.value.context == {"file": "blank.png", "page": 3}


def test_photo_instead_of_a_form_is_a_business_error(refs):
    rng = np.random.default_rng(1)
    photo = cv2.GaussianBlur(rng.integers(0, 255, (1200, 1600), dtype=np.uint8), (0, 0), 9)
    photo = cv2.normalize(photo, None, 0, 255, cv2.NORM_MINMAX)
    with pytest.raises(BusinessError):
        align.register(photo, None, list(refs.values()), min_score=0.35, file="photo.jpg")


def test_marks_are_found_at_a_different_scan_resolution(refs, reference_image):
    scan = cv2.resize(reference_image, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_LINEAR)  # 300 dpi
    page = align.register(scan, None, [refs["juminido"]], min_score=0.35)
    assert page.score > 0.8 and page.image.shape == reference_image.shape


def test_the_visible_part_is_masked_only_when_the_scan_does_not_cover_the_form():
    assert align._covers(np.eye(3), (100, 100), (50, 50))                 # the whole form lies on the scan
    shifted = np.array([[1.0, 0, 30], [0, 1.0, 0], [0, 0, 1.0]])     # scan px -> form px: the scan starts at x=30
    assert not align._covers(shifted, (100, 100), (100, 100))            # the form's left strip is off the scan
    assert not align._covers(np.zeros((3, 3)), (100, 100), (50, 50))     # a degenerate map: no shortcut, no error
