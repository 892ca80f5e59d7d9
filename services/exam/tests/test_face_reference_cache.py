"""The prepared head photo (analysis.prepare_reference / check_frame) and the worker's LRU of them
(references.ReferenceCache): a cached reference answers exactly as the photo itself and is not embedded
again; the frame's faces searched on a shrunk copy."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np
import pytest
from exam.faceworker.analysis import FaceRules, Reference, check_faces, check_frame, prepare_reference
from exam.faceworker.references import ReferenceCache
from exam.faceworker.settings import FaceWorkerSettings
from PIL import Image
from servicekit import faces

FACES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "faces"


@functools.cache
def photo(name: str) -> bytes:
    return (FACES / f"{name}.jpg").read_bytes()


def jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@functools.cache
def webcam_frame(name: str, face_px: int) -> bytes:
    """A 640×480 frame: the person's head and shoulders, face about `face_px` wide, on a grey background."""
    img = Image.open(io.BytesIO(photo(name))).convert("RGB")
    left, top, right, bottom = faces.detect_faces(np.asarray(img), upsample=0)[0].box
    width = right - left
    crop = img.crop((max(0, left - width), max(0, top - width), right + width, bottom + width))
    crop = crop.resize((round(crop.width * face_px / width), round(crop.height * face_px / width)))
    canvas = Image.new("RGB", (640, 480), (120, 120, 120))
    canvas.paste(crop, ((640 - crop.width) // 2, (480 - crop.height) // 2))
    return jpeg(canvas)


COPY_FIRST = FaceRules(detect_max_side=320)


@functools.cache
def reference_of(name: str) -> Reference:
    return prepare_reference(photo(name))


def frames() -> list[tuple[str, bytes | None, str]]:
    """(label, frame, reference name): matches, no match, a replay, flags, unreadable, 640×480 frames."""
    return [
        ("obama2 vs obama", photo("obama2"), "obama"),
        ("obama3 vs obama2", photo("obama3"), "obama2"),
        ("biden vs obama", photo("biden"), "obama"),
        ("a copy of obama", jpeg(Image.open(io.BytesIO(photo("obama"))), quality=40), "obama"),
        ("blank", jpeg(Image.new("RGB", (640, 480), "white")), "obama"),
        ("unreadable", b"not an image", "obama"),
        ("missing", None, "obama"),
        ("640x480 obama2 small face", webcam_frame("obama2", 120), "obama"),
        ("640x480 obama3 large face", webcam_frame("obama3", 300), "obama"),
        ("640x480 biden", webcam_frame("biden", 220), "obama"),
    ]


@pytest.mark.parametrize("rules", [FaceRules(), COPY_FIRST], ids=["default", "copy-first"])
@pytest.mark.parametrize("case", range(10))
def test_a_prepared_reference_gives_the_same_answer_as_the_photo(case: int, rules: FaceRules) -> None:
    label, frame, name = frames()[case]

    direct = check_faces(frame, photo(name), rules)
    cached = check_frame(frame, reference_of(name), rules)

    assert (
        cached.match,
        cached.distance,
        cached.replay_suspected,
        cached.quality_flags,
        cached.threshold,
    ) == (
        direct.match,
        direct.distance,
        direct.replay_suspected,
        direct.quality_flags,
        direct.threshold,
    ), label
    assert cached.measurements.get("similarity") == direct.measurements.get("similarity"), label
    assert cached.measurements.get("reference_faces") == direct.measurements.get("reference_faces") == 1


def test_an_unusable_reference_is_prepared_as_unusable_and_answers_as_before() -> None:
    blank = jpeg(Image.new("RGB", (295, 413), "white"))
    for data, faces_found in ((None, None), (b"GIF89a", None), (blank, 0)):
        reference = prepare_reference(data)
        assert not reference.usable and reference.faces == faces_found
        assert check_frame(photo("obama2"), reference).quality_flags == ["reference_unusable"]
        assert check_faces(photo("obama2"), data).quality_flags == ["reference_unusable"]


def test_a_check_against_a_prepared_reference_embeds_the_frame_only() -> None:
    calls: list[int] = []
    real = faces.embedding

    def counting(rgb: np.ndarray, face: faces.Face) -> np.ndarray:
        calls.append(1)
        return real(rgb, face)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(faces, "embedding", counting)
        reference = prepare_reference(photo("obama"))
        assert len(calls) == 1
        first = check_frame(photo("obama2"), reference)
        second = check_frame(photo("obama3"), reference)
        direct = check_faces(photo("obama2"), photo("obama"))

    assert len(calls) == 1 + 1 + 1 + 2  # the reference once, each frame once, the uncached check twice
    assert first.measurements["embeddings"] == second.measurements["embeddings"] == 1
    assert direct.measurements["embeddings"] == 2
    assert first.distance == direct.distance


def test_the_reference_keeps_only_the_embedding_and_a_small_grey_chip() -> None:
    reference = reference_of("obama")

    assert reference.embedding is not None and reference.embedding.shape == (128,)
    assert reference.chip is not None and reference.chip.shape == (150, 150)
    assert reference.chip.dtype == np.uint8
    assert reference.nbytes == 128 * 8 + 150 * 150


def test_a_frame_face_found_on_the_shrunk_copy_is_compared_like_one_found_at_full_size() -> None:
    frame = webcam_frame("obama3", 300)
    shrunk = check_frame(frame, reference_of("obama"), COPY_FIRST)
    native = check_frame(frame, reference_of("obama"))

    assert shrunk.match and native.match
    assert shrunk.distance is not None and native.distance is not None
    assert abs(shrunk.distance - native.distance) < 0.03
    assert shrunk.measurements["frame_faces"] == native.measurements["frame_faces"] == 1
    # HOG boxes come in pyramid steps of 5/6: another starting scale may give a box a few % wider or narrower
    assert abs(shrunk.measurements["face_width_px"] / native.measurements["face_width_px"] - 1) < 0.06


def head(name: str, face_px: int) -> Image.Image:
    """A tight crop of the person's head, scaled so that the face is about `face_px` wide."""
    img = Image.open(io.BytesIO(photo(name))).convert("RGB")
    left, top, right, bottom = faces.detect_faces(np.asarray(img), upsample=0)[0].box
    margin = (right - left) // 3
    crop = img.crop((left - margin, top - margin, right + margin, bottom + margin))
    scale = face_px / (right - left)
    return crop.resize((round(crop.width * scale), round(crop.height * scale)))


@pytest.mark.parametrize(("second", "crowded"), [(135, True), (125, False)])
def test_a_second_face_counts_as_at_full_size(second: int, crowded: bool) -> None:
    """A second face about 0.7 (crowded) or 0.5 (ignored) as wide as the largest, decided as at full size
    (the copy is trusted only at a scale where a face of 0.6 × the largest is surely found)."""
    canvas = Image.new("RGB", (640, 480), (120, 120, 120))
    canvas.paste(head("obama2", 200), (10, 100))
    canvas.paste(head("biden", second), (420, 140))
    frame = jpeg(canvas, quality=90)

    native = check_frame(frame, reference_of("obama"))
    shrunk = check_frame(frame, reference_of("obama"), COPY_FIRST)

    assert native.measurements["frame_faces"] == shrunk.measurements["frame_faces"] == 2
    assert ("multiple_faces" in native.quality_flags) is crowded
    assert shrunk.quality_flags == native.quality_flags
    assert shrunk.match is native.match is not crowded


# ---- the LRU ----


def test_a_hit_returns_the_reference_a_different_key_or_etag_is_a_miss() -> None:
    cache = ReferenceCache(4)
    reference = reference_of("obama")
    cache.put("enrollment", "photos/a.jpg", "etag-1", reference)

    assert cache.get("enrollment", "photos/a.jpg", "etag-1") is reference
    assert cache.get("enrollment", "photos/b.jpg", "etag-1") is None  # another key
    assert cache.get("other-bucket", "photos/a.jpg", "etag-1") is None  # another bucket
    assert (cache.hits, cache.misses) == (1, 2)
    assert cache.get("enrollment", "photos/a.jpg", "etag-2") is None  # the object changed: dropped
    assert ("enrollment", "photos/a.jpg") not in cache
    assert cache.get("enrollment", "photos/a.jpg", "etag-1") is None


def test_the_cache_is_bounded_least_recently_used_out() -> None:
    cache = ReferenceCache(3)
    reference = Reference(faces=0)
    for key in ("a", "b", "c"):
        cache.put("bucket", key, "e", reference)
    assert cache.get("bucket", "a", "e") is reference  # a is now the most recently used

    cache.put("bucket", "d", "e", reference)

    assert len(cache) == 3 and cache.evictions == 1
    assert ("bucket", "b") not in cache  # the least recently used went out
    assert all(("bucket", key) in cache for key in ("a", "c", "d"))
    cache.drop("bucket", "c")
    assert ("bucket", "c") not in cache and len(cache) == 2


def test_a_cache_of_size_zero_keeps_nothing_and_the_size_is_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = ReferenceCache(0)
    cache.put("bucket", "a", "e", Reference(faces=0))
    assert len(cache) == 0 and cache.get("bucket", "a", "e") is None
    with pytest.raises(ValueError):
        ReferenceCache(-1)

    assert FaceWorkerSettings().face_reference_cache_size == 4096
    monkeypatch.setenv("FACE_REFERENCE_CACHE_SIZE", "16")
    assert FaceWorkerSettings().face_reference_cache_size == 16
    assert FaceWorkerSettings().rules().detect_max_side == 0
    monkeypatch.setenv("FACE_DETECT_MAX_SIDE", "320")
    assert FaceWorkerSettings().rules().detect_max_side == 320
