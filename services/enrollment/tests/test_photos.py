from __future__ import annotations

import functools
import importlib.util
import math
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from enrollment.adapters.photos import (
    RULE_NAMES,
    HeadPhotoRules,
    check_aspect_ratio,
    check_dimensions,
    check_file_size,
    check_frontal,
    check_head_photo,
    check_tilt,
)
from enrollment.settings import EnrollmentSettings
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
        (imaging.square_head_photo, {"aspect_ratio"}, "600:600"),
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
    assert f"{len(data):,} 字节" in problem.message and "81,920 字节（80 KB）" in problem.message


def test_one_byte_over_the_size_limit_reads_differently_from_the_limit() -> None:
    assert check_file_size(81_920, RULES) is None
    problem = check_file_size(81_921, RULES)
    assert problem is not None and (problem.rule, problem.code) == ("file_size", "too_large")
    assert problem.message == "头像文件 81,921 字节，超过 81,920 字节（80 KB）的上限"
    assert "80.0 KB" not in problem.message


# ---- 一寸: 5:7 within ±2 %, at least 295×413 px, any higher resolution ----


@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [
        (295, 413, True),
        (981, 1400, True),  # 5:7 − 1.9 %
        (979, 1400, False),  # 5:7 − 2.1 %
        (1019, 1400, True),  # 5:7 + 1.9 %
        (1021, 1400, False),  # 5:7 + 2.1 %
        (600, 600, False),
    ],
)
def test_aspect_ratio_is_five_to_seven_within_two_percent(width: int, height: int, ok: bool) -> None:
    problem = check_aspect_ratio(width, height, RULES)
    assert (problem is None) is ok
    if problem is not None:
        assert problem.code == "wrong_aspect" and f"{width}:{height}" in problem.message
        assert "5:7" in problem.message and "±2%" in problem.message


def test_aspect_message_shows_the_measured_deviation() -> None:
    problem = check_aspect_ratio(979, 1400, RULES)
    assert problem is not None and "偏窄 2.1%" in problem.message
    wide = check_aspect_ratio(1021, 1400, RULES)
    assert wide is not None and "偏宽 2.1%" in wide.message


@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [(294, 413, False), (295, 412, False), (295, 413, True), (354, 496, True), (2950, 4130, True)],
)
def test_dimensions_are_at_least_one_inch(width: int, height: int, ok: bool) -> None:
    problem = check_dimensions(width, height, RULES)
    assert (problem is None) is ok
    if problem is not None:
        assert problem.code == "wrong_size" and f"{width}×{height}" in problem.message
        assert "295×413" in problem.message


@pytest.mark.parametrize(
    ("size", "failed"),
    [
        ((295, 413), set()),
        ((294, 413), {"dimensions"}),
        ((354, 496), set()),  # exactly 5:7 at 1.2 times the usual pixels: a 一寸 photo
        ((590, 826), set()),  # twice the pixels, still under 80 KB
        ((981, 1400), {"file_size"}),  # − 1.9 %: the shape is right (the file is too big)
        ((979, 1400), {"file_size", "aspect_ratio"}),  # − 2.1 %
    ],
)
def test_one_inch_photos_of_any_higher_resolution(size: tuple[int, int], failed: set[str]) -> None:
    result = check_head_photo(imaging.labeled_head_photo(size=size), RULES)
    assert set(result.failed_rules) == failed, (result, result.measurements)
    assert (result.measurements["width"], result.measurements["height"]) == size


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
    # 5:7 at eight times the pixels is a 一寸 photo (only far over 80 KB, and blurred by the enlargement)
    assert {"dimensions", "aspect_ratio"}.isdisjoint(result.failed_rules)
    assert "file_size" in result.failed_rules and result.measurements["face_count"] == 1
    # one detection, on the image shrunk to the analysis size (not on its 8 million pixels)
    [(height, width, _)] = detections.calls
    assert max(height, width) == RULES.analysis_max_side and height * width < 1_100_000
    # over the pixel limit: refused from the header, before any pixel is decoded or analysed
    assert check_head_photo(data, HeadPhotoRules(max_pixels=1_000_000)).failed_rules == ["format"]
    assert len(detections.calls) == 1


# ---- a head tilted in the picture plane ----


def eyes_at(degrees: float) -> Face:
    """A face whose eye line is `degrees` from level (right eye lower), in whole pixels as dlib gives
    landmarks: the eyes 3,000 px apart, so the angle is good to 0.01°."""
    dy = round(3000 * math.tan(math.radians(degrees)))
    return Face(
        box=(0, 0, 4000, 4000),
        confidence=1.0,
        landmarks=[(3510, 1000 + dy), (3490, 1000 + dy), (490, 1000), (510, 1000), (2000, 2000)],
    )


def test_tilt_measures_the_eye_line() -> None:
    assert faces.eye_line_tilt(eyes_at(0)) == 0
    assert faces.eye_line_tilt(eyes_at(45)) == pytest.approx(45)
    assert faces.eye_line_tilt(eyes_at(-20)) == pytest.approx(-20, abs=0.1)
    # the order of the eyes in the landmarks does not matter
    face = eyes_at(10)
    swapped = Face(face.box, face.confidence, [*face.landmarks[2:4], *face.landmarks[:2], face.landmarks[4]])
    assert faces.eye_line_tilt(swapped) == pytest.approx(faces.eye_line_tilt(face))


@pytest.mark.parametrize(
    ("degrees", "ok"), [(0.0, True), (7.9, True), (8.0, True), (8.1, False), (20.0, False)]
)
def test_tilt_limit_is_eight_degrees(degrees: float, ok: bool) -> None:
    for signed in (degrees, -degrees):
        problem = check_tilt(signed, RULES)
        assert (problem is None) is ok, signed
        if problem is not None:
            assert (problem.rule, problem.code) == ("tilt", "tilted")
            assert f"{degrees:.1f}°" in problem.message and "上限 8°" in problem.message


def test_a_tilt_just_over_the_limit_does_not_read_as_the_limit() -> None:
    problem = check_tilt(8.04, RULES)
    assert problem is not None and "8.04°" in problem.message


def test_tilt_boundary_on_landmarks() -> None:
    """7.9° and 8.1° eye lines (landmarks placed in whole pixels, as dlib gives them): measured to 0.1°."""
    below, above = eyes_at(7.9), eyes_at(8.1)
    assert faces.eye_line_tilt(below) == pytest.approx(7.9, abs=0.02)
    assert faces.eye_line_tilt(above) == pytest.approx(8.1, abs=0.02)
    assert check_tilt(faces.eye_line_tilt(below), RULES) is None
    assert check_tilt(faces.eye_line_tilt(above), RULES) is not None


@functools.cache
def measured_tilt(name: str, tilt: float) -> tuple[list[str], float]:
    result = check_head_photo(imaging.labeled_head_photo(name, tilt=tilt), RULES)
    return result.failed_rules, float(result.measurements["tilt_degrees"])


@pytest.mark.parametrize(("tilt", "failed"), [(0.0, []), (4.0, []), (12.0, ["tilt"]), (20.0, ["tilt"])])
def test_tilted_head_photos(tilt: float, failed: list[str]) -> None:
    """The labeled photo turned in the picture plane: the measured eye line follows the turn (the 5-point
    landmarks are good to about a degree), and past 8° the photo is refused for that reason alone."""
    level = measured_tilt("obama", 0.0)[1]
    rules, measured = measured_tilt("obama", tilt)
    assert rules == failed
    assert measured == pytest.approx(level + tilt, abs=1.5)
    if tilt:
        assert measured_tilt("obama", -tilt) == (failed, pytest.approx(level - tilt, abs=1.5))


def test_a_tilted_head_in_the_original_photo_is_refused() -> None:
    """biden.jpg: the head leans about 12° in the photo itself."""
    failed, measured = measured_tilt("biden", 0.0)
    assert failed == ["tilt"] and abs(measured) > 10


def test_tilt_limit_is_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    data = imaging.labeled_head_photo(tilt=20.0)
    assert check_head_photo(data, RULES).failed_rules == ["tilt"]
    assert check_head_photo(data, HeadPhotoRules(max_tilt_degrees=25.0)).failed_rules == []
    monkeypatch.setenv("ENROLLMENT_PHOTO_MAX_TILT_DEGREES", "25")
    assert EnrollmentSettings().photo_rules().max_tilt_degrees == 25.0
    monkeypatch.delenv("ENROLLMENT_PHOTO_MAX_TILT_DEGREES")
    assert EnrollmentSettings().photo_rules() == HeadPhotoRules()
