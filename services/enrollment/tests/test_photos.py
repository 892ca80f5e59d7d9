from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from enrollment.adapters.photos import (
    RULE_NAMES,
    HeadPhotoRules,
    check_frontal,
    check_head_photo,
)
from servicekit import faces
from servicekit.faces import Face, load_models


def _load_imaging() -> ModuleType:
    """tests/imaging.py by path: several `tests` packages in the workspace make `from . import` ambiguous."""
    name = "enrollment_tests_imaging"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("imaging.py"))
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


imaging = _load_imaging()

RULES = HeadPhotoRules()


@pytest.fixture(scope="module", autouse=True)
def models() -> None:
    load_models()


def test_good_head_photo_passes_every_rule() -> None:
    data = imaging.good_head_photo()
    assert len(data) <= 80 * 1024
    result = check_head_photo(data, RULES)
    assert result == [], result
    assert result.ok
    m = result.measurements
    assert (m["width"], m["height"], m["face_count"]) == (295, 413, 1)
    assert m["background_whiteness"] >= 0.99
    assert m["frontal_offset"] < 0.1
    assert m["sharpness"] > 3 * RULES.min_sharpness
    assert result.to_dict()["ok"] is True


def test_exif_orientation_is_applied() -> None:
    assert check_head_photo(imaging.exif_rotated_head_photo(), RULES) == []


@pytest.mark.parametrize(
    ("make", "failed", "words"),
    [
        (imaging.png_head_photo, {"format", "file_size"}, "PNG"),
        (imaging.oversized_head_photo, {"file_size"}, "KB"),
        (imaging.square_head_photo, {"dimensions", "aspect_ratio"}, "600×600"),
        (imaging.grey_background_head_photo, {"background"}, "背景"),
        (imaging.blank_photo, {"face_count", "sharpness"}, "未检测到人脸"),
        (imaging.two_faces_photo, {"face_count"}, "检测到 2 张人脸"),
        (imaging.blurred_head_photo, {"sharpness"}, "清晰"),
    ],
)
def test_each_failed_rule_is_named(make: Callable[[], bytes], failed: set[str], words: str) -> None:
    result = check_head_photo(make(), RULES)
    assert set(result.failed_rules) == failed, result.measurements
    assert len(result.failed_rules) == len(failed)  # one problem per rule
    assert all(p.rule in RULE_NAMES for p in result)
    assert any(words in p.message for p in result)


def test_file_size_message_gives_the_actual_size() -> None:
    data = imaging.oversized_head_photo()
    [problem] = check_head_photo(data, RULES)
    assert f"{len(data) / 1024:.1f} KB" in problem.message


def test_undecodable_bytes_give_only_a_format_problem() -> None:
    for data in (b"", b"hello", b"\xff\xd8\xff\xe0" + b"\x00" * 50, imaging.PDF_BYTES):
        result = check_head_photo(data, RULES)
        assert [p.rule for p in result] == ["format"]


def test_rules_are_configuration() -> None:
    data = imaging.good_head_photo()
    strict = HeadPhotoRules(max_bytes=10 * 1024, width=413, height=413, min_sharpness=10_000.0)
    assert set(check_head_photo(data, strict).failed_rules) == {"file_size", "dimensions", "sharpness"}


def fabricated(nose_x: int) -> Face:
    # eyes centred on x=130 and x=170 (inter-eye distance 40)
    return Face(
        box=(100, 100, 200, 200),
        confidence=1.0,
        landmarks=[(180, 140), (160, 140), (120, 140), (140, 140), (nose_x, 170)],
    )


def test_frontal_rule_with_a_fabricated_face() -> None:
    assert check_frontal(fabricated(150), RULES) is None
    assert check_frontal(fabricated(156), RULES) is None  # 0.15
    problem = check_frontal(fabricated(160), RULES)  # 0.25: a head turned sideways
    assert problem is not None and problem.rule == "frontal" and "0.25" in problem.message
    assert check_frontal(fabricated(140), RULES) is not None
    assert check_frontal(fabricated(160), HeadPhotoRules(max_frontal_offset=0.3)) is None


class Detections:
    """The images face detection ran on (height, width, upsampling): the work that bounds a check's time,
    counted instead of timed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[int, int, int]] = []
        original = faces.detect_faces

        def detect(
            rgb: np.ndarray, *, upsample: int = 1, min_confidence: float = faces.DEFAULT_MIN_CONFIDENCE
        ) -> list[Face]:
            self.calls.append((int(rgb.shape[0]), int(rgb.shape[1]), upsample))
            return original(rgb, upsample=upsample, min_confidence=min_confidence)

        monkeypatch.setattr(faces, "detect_faces", detect)


def test_a_check_detects_faces_once_on_the_photo_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    detections = Detections(monkeypatch)
    assert check_head_photo(imaging.good_head_photo(), RULES) == []
    assert detections.calls == [(413, 295, RULES.face_upsample)]


def test_a_huge_image_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    big = Image.new("RGB", (2400, 3360), (255, 255, 255))
    big.paste(imaging.head_crop(6.0), (240, 200))
    data = imaging.jpeg(big, quality=70)
    detections = Detections(monkeypatch)
    result = check_head_photo(data, RULES)
    assert "dimensions" in result.failed_rules and result.measurements["face_count"] == 1
    # one detection, on the image shrunk to the analysis size (not on its 8 million pixels)
    [(height, width, _)] = detections.calls
    assert max(height, width) == RULES.analysis_max_side and height * width < 1_100_000
    # over the pixel limit: refused from the header, before any pixel is decoded or analysed
    assert check_head_photo(data, HeadPhotoRules(max_pixels=1_000_000)).failed_rules == ["format"]
    assert len(detections.calls) == 1
