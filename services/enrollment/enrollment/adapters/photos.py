"""Head-photo check (一寸白底免冠正面照): Pillow for format and size, OpenCV for background and sharpness,
dlib (via `servicekit.faces`) for the face count and pose. Every failed rule is reported by name, with the
measured values so a reviewer sees why.

一寸 (domain.md): 5:7 within ±2 %, at least 295×413 px (any higher resolution of the same shape is a 一寸
photo), ≤ 80 KB; the head neither turned (nose off the eye line's middle) nor tilted in the picture plane (eye
line more than 8° from level, 5-point landmarks). The same check serves 我的资料 and the materials zip.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from servicekit import faces

if TYPE_CHECKING:
    import numpy as np

RULE_NAMES: tuple[str, ...] = (
    "format",
    "file_size",
    "dimensions",
    "aspect_ratio",
    "background",
    "face_count",
    "frontal",
    "tilt",
    "sharpness",
)


@dataclass(frozen=True)
class HeadPhotoRules:
    max_bytes: int = 80 * 1024
    width: int = 295  # the least width and height of a 一寸 photo; any higher resolution is fine
    height: int = 413
    aspect: float = 5 / 7  # width / height
    aspect_tolerance: float = 0.02  # relative: 5:7 ± 2 %
    min_background_whiteness: float = 0.80  # fraction of white pixels in the border strips
    max_frontal_offset: float = 0.18
    max_tilt_degrees: float = 8.0  # eye line against the horizontal (head tilted in the picture plane)
    min_sharpness: float = 60.0  # variance of the Laplacian
    background_border: float = 0.06  # width of the left, right and top strips, relative to the image side
    white_min_value: int = 200  # HSV V (0–255)
    white_max_saturation: int = 40  # HSV S (0–255)
    face_upsample: int = 1  # dlib upsampling: finds faces down to ~40 px
    analysis_max_side: int = 1200  # larger images are shrunk before face detection (time bound)
    max_pixels: int = 25_000_000  # refuse to decode anything bigger (decompression bomb)


@dataclass(frozen=True)
class PhotoProblem:
    rule: str  # one of RULE_NAMES
    code: str
    message: str


class HeadPhotoCheck(list[PhotoProblem]):
    """The failed rules (a list of `PhotoProblem`, empty = the photo passes) plus `measurements`."""

    def __init__(self, problems: list[PhotoProblem], measurements: dict[str, Any]) -> None:
        super().__init__(problems)
        self.measurements = measurements

    @property
    def ok(self) -> bool:
        return not self

    @property
    def failed_rules(self) -> list[str]:
        return [p.rule for p in self]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": [asdict(p) for p in self], "measurements": dict(self.measurements)}


# ---- single rules (each returns None when the rule passes) ----


def check_format(data: bytes) -> PhotoProblem | None:
    if data.startswith(b"\xff\xd8\xff"):
        return None
    found = sniff_format(data)
    return PhotoProblem("format", "not_jpeg", f"头像必须是 JPEG（.jpg）格式，实际是 {found}")


def sniff_format(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith(b"BM"):
        return "BMP"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if b"%PDF-" in data[:1024]:
        return "PDF"
    return "未知格式"


def _over(value: float, limit: float, scale: float = 1.0) -> str:
    """`value` (over `limit`) with one decimal, or as many more as it takes not to read as the limit."""
    for digits in range(1, 7):
        if round(value * scale, digits) != round(limit * scale, digits):
            break
    return f"{value * scale:.{digits}f}"


def _kb(size: int) -> str:
    return f"{size / 1024:g} KB" if size % 1024 == 0 else f"{size / 1024:.1f} KB"


def check_file_size(size: int, rules: HeadPhotoRules) -> PhotoProblem | None:
    """In bytes: one byte over 80 KB must not read as "80.0 KB，超过 80 KB"."""
    if size <= rules.max_bytes:
        return None
    return PhotoProblem(
        "file_size",
        "too_large",
        f"头像文件 {size:,} 字节，超过 {rules.max_bytes:,} 字节（{_kb(rules.max_bytes)}）的上限",
    )


def check_dimensions(width: int, height: int, rules: HeadPhotoRules) -> PhotoProblem | None:
    """At least the 一寸 pixels in each direction; any higher resolution is fine (the shape is the aspect
    rule's)."""
    if width >= rules.width and height >= rules.height:
        return None
    return PhotoProblem(
        "dimensions",
        "wrong_size",
        f"头像尺寸 {width}×{height} 像素，小于一寸照的最低 {rules.width}×{rules.height} 像素"
        "（更高分辨率的 5:7 照片均可）",
    )


def aspect_deviation(width: int, height: int, rules: HeadPhotoRules) -> float:
    """Relative difference of width / height from 5:7 (−0.021 = 2.1 % too narrow)."""
    return (width / height) / rules.aspect - 1 if height else -1.0


def check_aspect_ratio(width: int, height: int, rules: HeadPhotoRules) -> PhotoProblem | None:
    deviation = aspect_deviation(width, height, rules)
    if abs(deviation) <= rules.aspect_tolerance:
        return None
    shape = "偏窄" if deviation < 0 else "偏宽"
    percent = _over(abs(deviation), rules.aspect_tolerance, 100)
    return PhotoProblem(
        "aspect_ratio",
        "wrong_aspect",
        f"头像宽高比 {width}:{height}，比一寸照的 5:7 {shape} {percent}%"
        f"（允许 ±{rules.aspect_tolerance:.0%}），应为 5:7 的竖版照片",
    )


def background_whiteness(rgb: np.ndarray, rules: HeadPhotoRules) -> float:
    """Fraction of white pixels (V ≥ min value, S ≤ max saturation) in the left, right and top strips."""
    import cv2
    import numpy as np

    height, width = rgb.shape[:2]
    bx = max(1, round(width * rules.background_border))
    by = max(1, round(height * rules.background_border))
    mask = np.zeros((height, width), dtype=bool)
    mask[:, :bx] = True
    mask[:, width - bx :] = True
    mask[:by, :] = True
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    white = (hsv[:, :, 2] >= rules.white_min_value) & (hsv[:, :, 1] <= rules.white_max_saturation)
    return float(white[mask].mean())


def check_background(whiteness: float, rules: HeadPhotoRules) -> PhotoProblem | None:
    if whiteness >= rules.min_background_whiteness:
        return None
    return PhotoProblem(
        "background",
        "not_white",
        f"背景不是白色：边缘区域只有 {whiteness:.0%} 为白色（至少 {rules.min_background_whiteness:.0%}）",
    )


def check_face_count(count: int) -> PhotoProblem | None:
    if count == 1:
        return None
    if count == 0:
        return PhotoProblem("face_count", "no_face", "未检测到人脸（需为正面免冠照）")
    return PhotoProblem("face_count", "several_faces", f"检测到 {count} 张人脸，头像中只能有本人")


def check_frontal(face: faces.Face, rules: HeadPhotoRules) -> PhotoProblem | None:
    offset = faces.frontal_offset(face)
    if offset <= rules.max_frontal_offset:
        return None
    return PhotoProblem(
        "frontal",
        "not_frontal",
        f"人脸不是正面：鼻尖偏离双眼中线 {offset:.2f}"
        f"（上限 {rules.max_frontal_offset:.2f}，以两眼间距为单位）",
    )


def check_tilt(tilt_degrees: float, rules: HeadPhotoRules) -> PhotoProblem | None:
    """`tilt_degrees`: `faces.eye_line_tilt` of the face (signed)."""
    if abs(tilt_degrees) <= rules.max_tilt_degrees:
        return None
    return PhotoProblem(
        "tilt",
        "tilted",
        f"头部歪斜：双眼连线与水平方向成 {_over(abs(tilt_degrees), rules.max_tilt_degrees)}°"
        f"（上限 {rules.max_tilt_degrees:g}°），"
        "请拍摄头部端正的正面照",
    )


def sharpness(rgb: np.ndarray, box: tuple[int, int, int, int] | None = None) -> float:
    """Variance of the Laplacian of the grey image, inside `box` when given (clipped to the image)."""
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if box is not None:
        height, width = grey.shape
        left, top = max(0, box[0]), max(0, box[1])
        right, bottom = min(width, box[2]), min(height, box[3])
        if right - left >= 3 and bottom - top >= 3:
            grey = grey[top:bottom, left:right]
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def check_sharpness(value: float, rules: HeadPhotoRules) -> PhotoProblem | None:
    if value >= rules.min_sharpness:
        return None
    return PhotoProblem(
        "sharpness", "blurred", f"照片不够清晰（清晰度 {value:.0f}，至少 {rules.min_sharpness:.0f}）"
    )


# ---- the whole check ----


def _detect(rgb: np.ndarray, rules: HeadPhotoRules) -> list[faces.Face]:
    """Faces in original-image coordinates; big images are shrunk first so the time stays bounded."""
    import cv2

    height, width = rgb.shape[:2]
    scale = min(1.0, rules.analysis_max_side / max(height, width))
    if scale >= 1.0:
        return faces.detect_faces(rgb, upsample=rules.face_upsample)
    small = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    found = faces.detect_faces(small, upsample=rules.face_upsample)
    return [
        faces.Face(
            box=(
                round(f.box[0] / scale),
                round(f.box[1] / scale),
                round(f.box[2] / scale),
                round(f.box[3] / scale),
            ),
            confidence=f.confidence,
            landmarks=[(round(x / scale), round(y / scale)) for x, y in f.landmarks],
        )
        for f in found
    ]


def check_head_photo(data: bytes, rules: HeadPhotoRules = HeadPhotoRules()) -> HeadPhotoCheck:
    """Check a head photo against every rule; one `PhotoProblem` per failed rule (none = it passes).

    Undecodable bytes give only a `format` problem. Frontal pose and sharpness are measured on the largest
    face; without a face, sharpness is measured on the whole image and the pose is not judged.
    """
    started = time.perf_counter()
    measurements: dict[str, Any] = {
        "format": sniff_format(data),
        "file_bytes": len(data),
        "file_kb": round(len(data) / 1024, 1),
    }
    problems: list[PhotoProblem | None] = [check_format(data)]
    try:
        rgb = faces.decode_rgb(data, max_pixels=rules.max_pixels)
    except ValueError:
        return HeadPhotoCheck(
            [
                PhotoProblem(
                    "format",
                    "undecodable",
                    f"无法识别的图片文件（{measurements['format']}），请上传 JPEG 照片",
                )
            ],
            measurements,
        )
    height, width = rgb.shape[:2]
    whiteness = background_whiteness(rgb, rules)
    found = _detect(rgb, rules)
    face = found[0] if found else None
    sharp = sharpness(rgb, face.box if face else None)
    tilt = faces.eye_line_tilt(face) if face else None
    measurements.update(
        width=width,
        height=height,
        aspect=round(width / height, 3),
        background_whiteness=round(whiteness, 3),
        face_count=len(found),
        faces=[{"box": list(f.box), "confidence": round(f.confidence, 2)} for f in found],
        frontal_offset=round(faces.frontal_offset(face), 3) if face else None,
        tilt_degrees=round(tilt, 1) if tilt is not None else None,
        sharpness=round(sharp, 1),
    )
    problems += [
        check_file_size(len(data), rules),
        check_dimensions(width, height, rules),
        check_aspect_ratio(width, height, rules),
        check_background(whiteness, rules),
        check_face_count(len(found)),
        check_frontal(face, rules) if face else None,
        check_tilt(tilt, rules) if tilt is not None else None,
        check_sharpness(sharp, rules),
    ]
    measurements["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return HeadPhotoCheck([p for p in problems if p is not None], measurements)
