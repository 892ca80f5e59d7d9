"""One face check, as a pure function of two images: the live frame and the enrollment head photo.

`check_faces(frame, reference, rules)` decodes both images (Pillow), finds the faces (dlib HOG detector with
the 5-point landmarks, through `servicekit.faces`), measures the frame's face (size, pose, light,
sharpness), computes both 128-d ResNet embeddings and their distance, and decides:

    match = distance <= threshold  and  not replay_suspected  and  no quality flag

Any quality flag refuses the match on purpose: the flags tell the candidate what to fix (look at the
camera, more light, hold still) and another try costs seconds, whereas a doubtful acceptance cannot be
undone.

Quality flags (the names of `events.FaceChecked.quality_flags`):
- image_unreadable: the frame is missing or not a decodable image (or the analysis itself failed);
- reference_unusable: the head photo is missing, not decodable, or shows no face;
- no_face: no face in the frame;
- multiple_faces: a second face at least `dominance` (0.6) times as wide as the largest one. A clearly
  smaller face (someone passing behind) is ignored and the largest face is compared: at a check-in desk the
  candidate is the face in front of the camera, and refusing every frame with a background face would make
  check-in fail for reasons the candidate cannot fix;
- face_too_small: the face is narrower than `min_face_px` (80) pixels of the original frame;
- not_frontal: the nose is off the middle of the eyes by more than `max_frontal_offset` (0.25) eye distances;
- too_dark / too_bright: mean luminance (0–255) of the face box below 50 / above 210;
- blurred: variance of the Laplacian of the face box, resized to 150×150 grey, below 40.

Replay (a copy of the head photo shown to the camera, or sent as the frame): the frame's face is compared
with the reference's face in two independent ways, and either one flags it (only when the distance is below
the match threshold: a different person is simply no match):
1. embedding distance below `replay_distance` (FACE_REPLAY_DISTANCE, 0.15): two genuinely different photos of
   one person are 0.33–0.44 apart, a re-encoded, rescaled or cropped copy 0.05–0.14;
2. `similarity` at least `replay_similarity` (FACE_REPLAY_SIMILARITY, 0.70): the normalised cross-correlation
   of the two aligned face chips (dlib `get_face_chip`, 150 px, padding 0.25, grey, Gaussian blur σ 2). Two
   photos taken at different moments differ in expression, light and hair at that scale; a copy does not,
   even photographed on a screen (perspective, colour cast, moiré, noise, bezel).

Measured with this module's code on tests/fixtures/faces (distance / similarity):
- same person, different photos: obama–obama2 0.354 / 0.391, obama–obama3 0.328 / −0.164,
  obama2–obama3 0.440 / −0.052; a 295×413 head photo made from obama vs obama2 0.424 / 0.417, vs obama3
  0.415 / −0.154;
- different people: obama, obama2, obama3 vs biden 0.848 / 0.227, 0.819 / 0.054, 0.870 / 0.394;
- copies of obama: JPEG q40 0.060 / 1.000; rescaled to 30 % 0.140 / 0.994; cropped 10 % 0.072 / 0.992;
  cropped, rotated 3° and rescaled 0.088 / 0.990; "photographed on a screen" (3 random warps) 0.206 / 0.926,
  0.119 / 0.992, 0.121 / 0.986; the 295×413 head photo 0.252 / 0.893; blurred σ 2 and σ 4 0.130 / 0.997,
  0.281 / 0.990; darkened to 20 % 0.233 / 0.937; contrast 40 % 0.171 / 0.977; brightened 2.5× 0.449 / 0.756
  (also too_bright);
- copies of the head photo: re-encoded q50 0.140 / 0.980; upscaled 0.050 / 0.996; cropped 0.054 / 0.995;
  on a screen (2 warps) 0.289 / 0.982, 0.297 / 0.922.
So distance alone cannot tell a screen replay (0.21–0.30) from a genuine second photo (0.33), while the
similarity separates every copy (≥ 0.76) from every genuine pair (≤ 0.42). Face-box luminance: fixtures
112–148, darkened copy 29, brightened 244. Sharpness: fixtures 109–289, blurred σ 2 → 29, σ 4 → 8, the
small head photo on a screen → 21–37.

Speed: faces are searched at dlib's native scale first (faces ≥ 80 px) and only when none is found again
with one 2× upsampling (≈ 4× the time), on images shrunk to at most `analysis_max_side` (800) px.

The reference and the frame are prepared separately: `prepare_reference` decodes the head photo, finds its
face and keeps only what a check needs of it (its embedding, its grey aligned chip for the replay test, the
number of faces), `check_frame` analyses a frame against such a `Reference`, and `check_faces` is the two in
a row. The worker keeps the `Reference` of each head photo (references.py), so a check with a known head
photo embeds the live frame only; the answer is the same as `check_faces` gives (the same numbers are
computed from the same pixels, only earlier).

Optionally (`detect_max_side`, FACE_DETECT_MAX_SIDE, e.g. 320; default 0 = off), the frame's faces are first
searched on a copy shrunk to that size (the HOG pyramid's first levels, the costly ones, only find small
faces), the boxes mapped back, and the landmarks and everything else computed on the analysed image. The
copy is trusted only when it can have seen every face that matters: a face counts for `multiple_faces` from
`dominance` × the largest face's width, so the copy's scale must make that width at least `DETECTABLE_PX` (88:
the detector's 80 px window plus a margin). When it cannot, the frame is searched again at the scale that
can (if that is still a real saving) or as before.
No face in the copy → as before (native scale, then 2× upsampling), so small faces are found exactly as
before and flagged `face_too_small`. The head photo is searched as before (it is prepared once). HOG boxes
come in pyramid steps, so a box found on the copy may be a few % wider or narrower than at full size (the
landmarks, the embedding, luminance and sharpness shift slightly; distances by ≤ 0.015 on the fixtures).
It is off by default because it does not pay for webcam frames: with the guard above, in CPU time per check
on 640×480 frames (cached reference, ~130 ms), the copy first costs +9 ms for faces ≤ 180 px wide (a laptop
camera at 50–60 cm shows a face ~150 px wide), nothing at 220 px, and saves 6 ms at 260 px and 23 ms at 300
px: the face search (~30 ms at 640×480) is not what a check spends its time on, the frame's embedding (~90 ms)
is. Turn it on for cameras that show large faces (a check-in desk close-up).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from servicekit import faces

if TYPE_CHECKING:
    import numpy as np

FLAG_IMAGE_UNREADABLE = "image_unreadable"
FLAG_REFERENCE_UNUSABLE = "reference_unusable"
FLAG_NO_FACE = "no_face"
FLAG_MULTIPLE_FACES = "multiple_faces"
FLAG_FACE_TOO_SMALL = "face_too_small"
FLAG_NOT_FRONTAL = "not_frontal"
FLAG_TOO_DARK = "too_dark"
FLAG_TOO_BRIGHT = "too_bright"
FLAG_BLURRED = "blurred"

ALL_FLAGS: tuple[str, ...] = (
    FLAG_IMAGE_UNREADABLE,
    FLAG_REFERENCE_UNUSABLE,
    FLAG_NO_FACE,
    FLAG_MULTIPLE_FACES,
    FLAG_FACE_TOO_SMALL,
    FLAG_NOT_FRONTAL,
    FLAG_TOO_DARK,
    FLAG_TOO_BRIGHT,
    FLAG_BLURRED,
)

CHIP_SIZE = 150
CHIP_PADDING = 0.25
CHIP_BLUR_SIGMA = 2.0
SHARPNESS_SIZE = 150


@dataclass(frozen=True)
class FaceRules:
    """Every number of the check (the worker fills the first three from its settings)."""

    match_threshold: float = 0.6
    replay_distance: float = 0.15
    replay_similarity: float = 0.70
    min_face_px: int = 80  # face width in pixels of the original frame
    max_frontal_offset: float = 0.25  # in eye distances (0 = frontal, ≈0.3 at 30° of yaw)
    min_luminance: float = 50.0
    max_luminance: float = 210.0
    min_sharpness: float = 40.0  # variance of the Laplacian of the 150×150 grey face box
    dominance: float = 0.6  # a second face narrower than this fraction of the largest one is ignored
    analysis_max_side: int = 800
    detect_max_side: int = 0  # the frame's faces are searched on a copy this size first (0 = never)
    max_pixels: int = 25_000_000


@dataclass(frozen=True)
class FaceCheckResult:
    """The answer to one check; `measurements` are for logs and the bench, not part of the event."""

    match: bool
    distance: float | None
    threshold: float
    replay_suspected: bool = False
    quality_flags: list[str] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Prepared:
    rgb: np.ndarray  # the (possibly shrunk) image the faces were found in
    scale: float  # analysed size / original size
    found: list[faces.Face]


# The HOG detector's window is 80×80: a face narrower than that (in the searched image) is not found
# without upsampling. A copy is trusted for a width once it is at least this (a 10 % margin).
DETECTABLE_PX = 88
# A second search on a copy is worth it only below this scale (the cost grows with the scale squared).
WORTH_SCALE = 0.8


def _find_at(rgb: np.ndarray, scale: float) -> list[faces.Face]:
    """The faces HOG finds at native scale in a copy of `rgb` shrunk by `scale` (< 1), boxes mapped back
    to `rgb` and landmarks found in `rgb` itself; largest first (as `faces.detect_faces`)."""
    import cv2
    import dlib
    import numpy as np

    models = faces.load_models()
    height, width = rgb.shape[:2]
    small = cv2.resize(
        rgb, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    fx, fy = width / small.shape[1], height / small.shape[0]
    image = np.ascontiguousarray(rgb)
    rects, scores, _ = models.detector.run(np.ascontiguousarray(small), 0, 0.0)
    found = []
    for rect, score in zip(rects, scores, strict=True):
        if score < faces.DEFAULT_MIN_CONFIDENCE:
            continue
        box = dlib.rectangle(
            round(rect.left() * fx),
            round(rect.top() * fy),
            round(rect.right() * fx),
            round(rect.bottom() * fy),
        )
        shape = models.shape_predictor(image, box)
        found.append(
            faces.Face(
                box=(box.left(), box.top(), box.right(), box.bottom()),
                confidence=float(score),
                landmarks=[(p.x, p.y) for p in shape.parts()],
            )
        )
    found.sort(key=lambda f: f.area, reverse=True)
    return found


def _detect(rgb: np.ndarray, rules: FaceRules, *, shrink_first: bool) -> list[faces.Face]:
    """The faces in the analysed image, largest first (see the module's docstring, "Speed")."""
    height, width = rgb.shape[:2]
    scale = rules.detect_max_side / max(height, width) if shrink_first and rules.detect_max_side else 1.0
    if scale < WORTH_SCALE:
        found = _find_at(rgb, scale)
        if found:
            needed = DETECTABLE_PX / (rules.dominance * found[0].width)  # every face that can count is seen
            if needed <= scale:
                return found
            if needed < WORTH_SCALE:
                again = _find_at(rgb, needed)
                if again and DETECTABLE_PX / (rules.dominance * again[0].width) <= needed:
                    return again
    found = faces.detect_faces(rgb, upsample=0)
    if not found:
        found = faces.detect_faces(rgb, upsample=1)
    return found


def _prepare(data: bytes, rules: FaceRules, *, shrink_first: bool = False) -> _Prepared:
    """Decode (ValueError when not an image), shrink to `analysis_max_side`, find the faces."""
    import cv2

    rgb = faces.decode_rgb(data, max_pixels=rules.max_pixels)
    height, width = rgb.shape[:2]
    if height < 8 or width < 8:
        raise ValueError(f"image too small: {width}×{height}")
    scale = min(1.0, rules.analysis_max_side / max(height, width))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    return _Prepared(rgb, scale, _detect(rgb, rules, shrink_first=shrink_first))


def _face_box(grey: np.ndarray, face: faces.Face) -> np.ndarray:
    height, width = grey.shape[:2]
    left, top = max(0, face.box[0]), max(0, face.box[1])
    right, bottom = min(width, face.box[2]), min(height, face.box[3])
    if right - left < 3 or bottom - top < 3:
        return grey
    return grey[top:bottom, left:right]


def luminance(rgb: np.ndarray, face: faces.Face) -> float:
    """Mean grey level (0–255) inside the face box."""
    import cv2

    return float(_face_box(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), face).mean())


def sharpness(rgb: np.ndarray, face: faces.Face) -> float:
    """Variance of the Laplacian of the face box resized to 150×150 grey (independent of the face size)."""
    import cv2

    crop = _face_box(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), face)
    crop = cv2.resize(crop, (SHARPNESS_SIZE, SHARPNESS_SIZE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(crop, cv2.CV_64F).var())


def grey_chip(rgb: np.ndarray, face: faces.Face) -> np.ndarray:
    """The face aligned by its 5 landmarks (dlib `get_face_chip`, 150 px), grey uint8 (22.5 kB: what the
    reference cache keeps of a head photo's pixels)."""
    import cv2
    import dlib
    import numpy as np

    left, top, right, bottom = face.box
    shape = dlib.full_object_detection(
        dlib.rectangle(left, top, right, bottom), [dlib.point(x, y) for x, y in face.landmarks]
    )
    chip = np.asarray(dlib.get_face_chip(np.ascontiguousarray(rgb), shape, CHIP_SIZE, CHIP_PADDING))
    return np.asarray(cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY))


def blurred_chip(grey: np.ndarray) -> np.ndarray:
    """A grey chip as the replay test compares it: float, Gaussian blur σ 2."""
    import cv2
    import numpy as np

    return np.asarray(cv2.GaussianBlur(grey.astype(np.float64), (0, 0), CHIP_BLUR_SIGMA))


def face_chip(rgb: np.ndarray, face: faces.Face) -> np.ndarray:
    """The face aligned by its 5 landmarks, grey, blurred: for the replay test."""
    return blurred_chip(grey_chip(rgb, face))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation of two equal-sized grey chips (1 = the same picture, ≈0 unrelated)."""
    a = (a - a.mean()) / (a.std() + 1e-9)
    b = (b - b.mean()) / (b.std() + 1e-9)
    return float((a * b).mean())


def _main_face(found: list[faces.Face], rules: FaceRules) -> tuple[faces.Face | None, bool]:
    """The face to compare and whether another face is too big to be ignored (`found` is largest first)."""
    if not found:
        return None, False
    largest = found[0]
    crowded = any(other.width >= rules.dominance * largest.width for other in found[1:])
    return largest, crowded


def quality_flags(
    prepared: _Prepared, face: faces.Face, rules: FaceRules
) -> tuple[list[str], dict[str, Any]]:
    """The frame face's quality flags and the measured values."""
    width_px = face.width / prepared.scale
    offset = faces.frontal_offset(face)
    light = luminance(prepared.rgb, face)
    sharp = sharpness(prepared.rgb, face)
    flags: list[str] = []
    if width_px < rules.min_face_px:
        flags.append(FLAG_FACE_TOO_SMALL)
    if offset > rules.max_frontal_offset:
        flags.append(FLAG_NOT_FRONTAL)
    if light < rules.min_luminance:
        flags.append(FLAG_TOO_DARK)
    elif light > rules.max_luminance:
        flags.append(FLAG_TOO_BRIGHT)
    if sharp < rules.min_sharpness:
        flags.append(FLAG_BLURRED)
    return flags, {
        "face_width_px": round(width_px),
        "frontal_offset": round(offset, 3),
        "luminance": round(light, 1),
        "sharpness": round(sharp, 1),
    }


@dataclass(frozen=True)
class Reference:
    """What a check needs of the head photo, prepared once (`prepare_reference`): the worker keeps it.

    `faces` is None when the photo was missing or not decodable; `embedding` and `chip` are None when it is
    unusable (missing, undecodable or no face). About 23.6 kB (the 150×150 grey chip and 128 floats).
    """

    faces: int | None
    embedding: np.ndarray | None = None
    chip: np.ndarray | None = None  # grey uint8 aligned chip (`grey_chip`), blurred when compared

    @property
    def usable(self) -> bool:
        return self.embedding is not None and self.chip is not None

    @property
    def nbytes(self) -> int:
        return sum(0 if a is None else int(a.nbytes) for a in (self.embedding, self.chip))


def prepare_reference(reference: bytes | None, rules: FaceRules = FaceRules()) -> Reference:
    """Decode the head photo, find its face (the largest: the photo was checked at enrollment), embed it and
    cut its chip. Never raises for bad input: an unusable photo is a `Reference` that says so."""
    if reference is None:
        return Reference(faces=None)
    try:
        ref = _prepare(reference, rules)
    except ValueError:
        return Reference(faces=None)
    if not ref.found:
        return Reference(faces=0)
    face = ref.found[0]
    return Reference(
        faces=len(ref.found), embedding=faces.embedding(ref.rgb, face), chip=grey_chip(ref.rgb, face)
    )


def check_frame(frame: bytes | None, reference: Reference, rules: FaceRules = FaceRules()) -> FaceCheckResult:
    """Compare the live frame with a prepared reference (frame None = the object was missing). Never raises
    for bad input: unreadable or missing images become flags. Embeds the frame only."""
    started = time.perf_counter()
    flags: list[str] = []
    measurements: dict[str, Any] = {"embeddings": 0}

    def answer(distance: float | None = None, replay: bool = False) -> FaceCheckResult:
        measurements["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
        ordered = [f for f in ALL_FLAGS if f in flags]
        match = distance is not None and distance <= rules.match_threshold and not replay and not ordered
        return FaceCheckResult(
            match=match,
            distance=None if distance is None else round(distance, 4),
            threshold=rules.match_threshold,
            replay_suspected=replay,
            quality_flags=ordered,
            measurements=measurements,
        )

    if reference.faces is not None:
        measurements["reference_faces"] = reference.faces
    if not reference.usable:
        flags.append(FLAG_REFERENCE_UNUSABLE)

    if frame is None:
        flags.append(FLAG_IMAGE_UNREADABLE)
        return answer()
    try:
        live = _prepare(frame, rules, shrink_first=True)
    except ValueError:
        flags.append(FLAG_IMAGE_UNREADABLE)
        return answer()
    face, crowded = _main_face(live.found, rules)
    measurements["frame_faces"] = len(live.found)
    if face is None:
        flags.append(FLAG_NO_FACE)
        return answer()
    if crowded:
        flags.append(FLAG_MULTIPLE_FACES)
    face_flags, values = quality_flags(live, face, rules)
    flags += face_flags
    measurements.update(values)
    if reference.embedding is None or reference.chip is None:
        return answer()

    measurements["embeddings"] += 1
    distance = faces.distance(faces.embedding(live.rgb, face), reference.embedding)
    replay = False
    if distance <= rules.match_threshold:
        similar = similarity(face_chip(live.rgb, face), blurred_chip(reference.chip))
        measurements["similarity"] = round(similar, 3)
        replay = distance < rules.replay_distance or similar >= rules.replay_similarity
    return answer(distance, replay)


def check_faces(
    frame: bytes | None, reference: bytes | None, rules: FaceRules = FaceRules()
) -> FaceCheckResult:
    """Compare the live frame with the reference photo (None = the object was missing): `prepare_reference`
    then `check_frame` (the worker keeps the prepared reference instead). Never raises for bad input."""
    started = time.perf_counter()
    prepared = prepare_reference(reference, rules)
    result = check_frame(frame, prepared, rules)
    result.measurements["embeddings"] += int(prepared.usable)
    result.measurements["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result
