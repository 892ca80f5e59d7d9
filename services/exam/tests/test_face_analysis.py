"""The face check itself (exam.faceworker.analysis) on the labeled photos: match, no match, replay, flags."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from events import FaceCheckRequested
from exam.faceworker.analysis import ALL_FLAGS, FaceRules, check_faces
from exam.faceworker.worker import answer_event, answer_id
from PIL import Image, ImageEnhance, ImageFilter
from servicekit import faces

FACES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "faces"


@functools.cache
def photo(name: str) -> bytes:
    return (FACES / f"{name}.jpg").read_bytes()


def image(name: str) -> Image.Image:
    return Image.open(io.BytesIO(photo(name))).convert("RGB")


def jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@functools.cache
def head_photo() -> bytes:
    """A 295×413 enrollment-style head photo made from obama.jpg."""
    return jpeg(image("obama").resize((295, 413)), quality=70)


def on_screen(img: Image.Image, seed: int) -> Image.Image:
    """The picture as a camera sees it on a phone screen: perspective, colour cast, gamma, moiré, blur,
    noise, a dark bezel around it, 640 px wide."""
    import cv2

    rng = np.random.default_rng(seed)
    pixels: Any = np.asarray(img.convert("RGB")).astype(np.float32)
    height, width = pixels.shape[:2]
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    moved = (corners + rng.uniform(-0.06, 0.06, (4, 2)) * [width, height]).astype(np.float32)
    warp = cv2.getPerspectiveTransform(corners, moved)
    pixels = cv2.warpPerspective(pixels, warp, (width, height), borderValue=(20, 20, 20))
    pixels = pixels * np.array([0.9, 1.0, 1.1]) + 15
    pixels = 255 * (np.clip(pixels, 0, 255) / 255) ** 1.2
    yy, xx = np.mgrid[0:height, 0:width]
    pixels += 8 * np.sin(xx * 0.9 + yy * 0.3)[..., None]
    pixels = cv2.GaussianBlur(pixels, (5, 5), 1.2) + rng.normal(0, 6, pixels.shape)
    shown = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    canvas = Image.new("RGB", (int(width * 1.4), int(height * 1.3)), (60, 55, 50))
    canvas.paste(shown, (int(width * 0.2), int(height * 0.15)))
    return canvas.resize((640, round(640 * canvas.height / canvas.width)))


def portrait(name: str, face_px: int) -> Image.Image:
    """Head and shoulders of a fixture photo, scaled so that the face is about `face_px` wide."""
    img = image(name)
    found = faces.detect_faces(np.asarray(img), upsample=0)
    left, top, right, bottom = found[0].box
    width = right - left
    crop = img.crop((max(0, left - width), max(0, top - width), right + width, bottom + width))
    scale = face_px / width
    return crop.resize((round(crop.width * scale), round(crop.height * scale)))


def side_by_side(left: Image.Image, right: Image.Image) -> bytes:
    """Two portraits next to each other on a grey background."""
    canvas = Image.new(
        "RGB", (left.width + right.width + 60, max(left.height, right.height) + 40), (128,) * 3
    )
    canvas.paste(left, (20, 20))
    canvas.paste(right, (left.width + 40, 20))
    return jpeg(canvas)


# ---- who is who ----


@pytest.mark.parametrize(
    ("frame", "reference"), [("obama2", "obama"), ("obama3", "obama"), ("obama3", "obama2")]
)
def test_the_same_person_in_another_photo_matches(frame: str, reference: str) -> None:
    result = check_faces(photo(frame), photo(reference))

    assert result.match, result
    assert result.distance is not None and 0.2 < result.distance < 0.6
    assert result.quality_flags == []
    assert not result.replay_suspected
    assert result.threshold == 0.6


def test_a_live_frame_matches_the_small_enrollment_head_photo() -> None:
    result = check_faces(photo("obama2"), head_photo())

    assert result.match, result
    assert result.measurements["similarity"] < 0.7


@pytest.mark.parametrize("frame", ["biden", "obama", "obama2", "obama3"])
def test_another_person_does_not_match(frame: str) -> None:
    reference = "biden" if frame != "biden" else "obama"

    result = check_faces(photo(frame), photo(reference))

    assert not result.match
    assert result.distance is not None and result.distance > 0.75
    assert not result.replay_suspected
    assert result.quality_flags == []


def test_the_threshold_is_configuration() -> None:
    strict = check_faces(photo("obama2"), photo("obama"), FaceRules(match_threshold=0.3))

    assert not strict.match
    assert strict.threshold == 0.3
    assert strict.distance is not None and strict.distance > 0.3


# ---- replay: a copy of the head photo instead of a live face ----

COPIES: dict[str, Callable[[], tuple[bytes, bytes]]] = {
    "re-encoded": lambda: (jpeg(image("obama"), quality=40), photo("obama")),
    "rescaled": lambda: (jpeg(image("obama").resize((273, 341))), photo("obama")),
    "cropped and rotated": lambda: (
        jpeg(
            image("obama").crop((75, 80, 835, 1057)).rotate(3, fillcolor=(255, 255, 255)).resize((500, 620))
        ),
        photo("obama"),
    ),
    "photo on a screen": lambda: (jpeg(on_screen(image("obama"), seed=0)), photo("obama")),
    "head photo upscaled": lambda: (
        jpeg(Image.open(io.BytesIO(head_photo())).resize((640, 896))),
        head_photo(),
    ),
    "head photo on a screen": lambda: (
        jpeg(on_screen(Image.open(io.BytesIO(head_photo())), seed=4)),
        head_photo(),
    ),
}


@pytest.mark.parametrize("copy", sorted(COPIES))
def test_a_copy_of_the_reference_is_a_suspected_replay(copy: str) -> None:
    frame, reference = COPIES[copy]()

    result = check_faces(frame, reference)

    assert result.replay_suspected, result
    assert not result.match
    assert result.distance is not None and result.distance < 0.6


def test_the_similarity_alone_catches_a_screen_replay_that_the_distance_misses() -> None:
    frame, reference = COPIES["head photo on a screen"]()

    result = check_faces(frame, reference, FaceRules(replay_distance=0.0))

    assert result.distance is not None and result.distance > 0.15  # far enough to pass a distance-only rule
    assert result.measurements["similarity"] >= 0.7
    assert result.replay_suspected


def test_genuine_photos_of_one_person_are_not_replays_even_with_a_loose_distance_rule() -> None:
    result = check_faces(photo("obama2"), photo("obama"), FaceRules(replay_distance=0.3))

    assert not result.replay_suspected
    assert result.match


# ---- quality flags ----


@pytest.mark.parametrize("colour", ["white", "black"])
def test_a_blank_frame_has_no_face(colour: str) -> None:
    result = check_faces(jpeg(Image.new("RGB", (640, 480), colour)), photo("obama"))

    assert result.quality_flags == ["no_face"]
    assert not result.match and result.distance is None


def test_a_blurred_frame_is_flagged() -> None:
    frame = jpeg(image("obama2").filter(ImageFilter.GaussianBlur(4)))

    result = check_faces(frame, photo("obama"))

    assert "blurred" in result.quality_flags
    assert result.measurements["sharpness"] < 40
    assert not result.match


def test_a_dark_frame_and_a_bright_frame_are_flagged() -> None:
    dark = check_faces(jpeg(ImageEnhance.Brightness(image("obama2")).enhance(0.25)), photo("obama"))
    bright = check_faces(jpeg(ImageEnhance.Brightness(image("obama3")).enhance(2.6)), photo("obama"))

    assert "too_dark" in dark.quality_flags and dark.measurements["luminance"] < 50
    assert "too_bright" in bright.quality_flags and bright.measurements["luminance"] > 210
    assert not dark.match and not bright.match


def test_two_faces_of_the_same_size_are_refused() -> None:
    frame = side_by_side(portrait("obama2", 180), portrait("biden", 170))

    result = check_faces(frame, photo("obama"))

    assert result.measurements["frame_faces"] == 2
    assert "multiple_faces" in result.quality_flags
    assert not result.match


def test_a_much_smaller_face_behind_the_candidate_is_ignored() -> None:
    frame = side_by_side(portrait("obama2", 260), portrait("biden", 110))

    result = check_faces(frame, photo("obama"))

    assert result.measurements["frame_faces"] == 2  # it was seen …
    assert "multiple_faces" not in result.quality_flags  # … and the candidate's face was compared
    assert result.match, result


def test_a_face_far_from_the_camera_is_too_small() -> None:
    small = image("obama2").resize((63, 120))
    canvas = Image.new("RGB", (640, 480), (200, 200, 200))
    canvas.paste(small, (300, 200))

    result = check_faces(jpeg(canvas, quality=95), photo("obama"))

    assert "face_too_small" in result.quality_flags
    assert result.measurements["face_width_px"] < 80
    assert not result.match


def test_the_pose_limit_flags_a_turned_head() -> None:
    default = check_faces(photo("obama2"), photo("obama"))
    strict = check_faces(photo("obama2"), photo("obama"), FaceRules(max_frontal_offset=0.05))

    assert "not_frontal" not in default.quality_flags
    assert strict.measurements["frontal_offset"] > 0.05
    assert strict.quality_flags == ["not_frontal"]
    assert not strict.match and strict.distance is not None and strict.distance < 0.6


def test_unreadable_and_missing_images_are_answers_not_errors() -> None:
    garbage = check_faces(b"\xff\xd8\xff not really a jpeg", photo("obama"))
    missing_frame = check_faces(None, photo("obama"))
    missing_reference = check_faces(photo("obama2"), None)
    faceless_reference = check_faces(photo("obama2"), jpeg(Image.new("RGB", (295, 413), "white")))
    broken_reference = check_faces(photo("obama2"), b"GIF89a")

    assert garbage.quality_flags == ["image_unreadable"]
    assert missing_frame.quality_flags == ["image_unreadable"]
    assert missing_reference.quality_flags == ["reference_unusable"]
    assert faceless_reference.quality_flags == ["reference_unusable"]
    assert broken_reference.quality_flags == ["reference_unusable"]
    for result in (garbage, missing_frame, missing_reference, faceless_reference, broken_reference):
        assert not result.match and result.distance is None
        assert set(result.quality_flags) <= set(ALL_FLAGS)


# ---- the answer event ----


def test_the_answer_carries_the_request_ids_and_one_event_id_per_request() -> None:
    request = FaceCheckRequested(
        check_id="chk-1",
        candidate_id="cand-1",
        session_id="sess-1",
        attempt_no=1,
        frame_bucket="exam",
        frame_key="frames/chk-1.jpg",
        reference_bucket="enrollment",
        reference_key="photos/a.jpg",
    )
    result = check_faces(jpeg(Image.new("RGB", (64, 64), "white")), photo("obama"))

    answer = answer_event(request, result, "host-1", 12.345)

    assert (answer.check_id, answer.candidate_id, answer.session_id) == ("chk-1", "cand-1", "sess-1")
    assert answer.quality_flags == ["no_face"] and not answer.match
    assert answer.worker == "host-1" and answer.elapsed_ms == 12.3
    assert answer_id("evt-1") == answer_id("evt-1") != answer_id("evt-2")
