from __future__ import annotations

import io
import math
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from servicekit import faces


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="module")
def astronaut_face(astronaut: np.ndarray) -> faces.Face:
    found = faces.detect_faces(astronaut)
    assert len(found) == 1
    return found[0]


def test_importing_faces_loads_no_image_library() -> None:
    code = (
        "import sys, servicekit, servicekit.faces; print(sorted({'dlib', 'cv2', 'PIL'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "dlib" not in out and "cv2" not in out and "PIL" not in out


def test_models_are_loaded_once() -> None:
    assert faces.load_models() is faces.load_models()


def test_astronaut_has_one_frontal_face(astronaut_face: faces.Face) -> None:
    left, top, right, bottom = astronaut_face.box
    assert 150 < left < right < 290 and 50 < top < bottom < 200
    assert astronaut_face.confidence > 1.0
    assert len(astronaut_face.landmarks) == 5
    assert faces.frontal_offset(astronaut_face) < 0.1


def test_embedding_and_distance(astronaut: np.ndarray, astronaut_face: faces.Face) -> None:
    vector = faces.embedding(astronaut, astronaut_face)
    assert vector.shape == (128,)
    assert faces.distance(vector, faces.embedding(astronaut, astronaut_face)) < 1e-6

    flipped = np.ascontiguousarray(astronaut[:, ::-1])
    [mirror_face] = faces.detect_faces(flipped)
    assert faces.distance(vector, faces.embedding(flipped, mirror_face)) < 0.45


def test_blank_image_has_no_face() -> None:
    assert faces.detect_faces(np.full((413, 295, 3), 255, dtype=np.uint8)) == []


def test_two_faces_side_by_side(astronaut: np.ndarray) -> None:
    found = faces.detect_faces(np.concatenate([astronaut, astronaut], axis=1))
    assert len(found) == 2
    assert sorted(f.box[0] // 512 for f in found) == [0, 1]


def test_grey_and_rgba_inputs_are_accepted(astronaut: np.ndarray) -> None:
    grey = np.asarray(Image.fromarray(astronaut).convert("L"))
    assert len(faces.detect_faces(grey)) == 1
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    assert len(faces.detect_faces(rgba)) == 1
    with pytest.raises(ValueError):
        faces.detect_faces(astronaut.astype(np.float32))


def face_with(landmarks: list[tuple[int, int]]) -> faces.Face:
    return faces.Face(box=(0, 0, 100, 100), confidence=1.0, landmarks=landmarks)


def test_frontal_offset_of_fabricated_landmarks() -> None:
    # eyes centred on x=30 and x=70 (span 40), nose at x=50: frontal
    eyes = [(80, 40), (60, 40), (20, 40), (40, 40)]
    assert faces.frontal_offset(face_with([*eyes, (50, 70)])) == 0
    assert faces.frontal_offset(face_with([*eyes, (60, 70)])) == pytest.approx(0.25)
    assert faces.frontal_offset(face_with([*eyes, (40, 70)])) == pytest.approx(0.25)
    # a rolled (tilted) head looking straight: nose on the perpendicular through the eyes' midpoint
    angle = math.radians(20)
    ux, uy = math.cos(angle), math.sin(angle)
    tilted = [(round(50 + d * ux * 100), round(50 + d * uy * 100)) for d in (0.3, 0.1, -0.3, -0.1)]
    nose = (round(50 - 0.3 * uy * 100), round(50 + 0.3 * ux * 100))
    assert faces.frontal_offset(face_with([*tilted, nose])) < 0.03
    with pytest.raises(ValueError):
        faces.frontal_offset(face_with([(0, 0)]))


def test_decode_rgb_applies_exif_orientation_and_converts() -> None:
    stored = Image.new("RGB", (40, 20), (255, 0, 0))  # wide as stored, tall once rotated
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    stored.save(out, "JPEG", exif=exif.tobytes())
    rgb = faces.decode_rgb(out.getvalue())
    assert rgb.shape == (40, 20, 3) and rgb.dtype == np.uint8

    out = io.BytesIO()
    Image.new("RGBA", (8, 6), (0, 0, 255, 128)).save(out, "PNG")
    assert faces.decode_rgb(out.getvalue()).shape == (6, 8, 3)

    for bad in (b"", b"not an image", b"\xff\xd8\xff\xe0truncated"):
        with pytest.raises(ValueError):
            faces.decode_rgb(bad)
    with pytest.raises(ValueError, match="too large"):
        faces.decode_rgb(out.getvalue(), max_pixels=10)
