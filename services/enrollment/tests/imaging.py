"""Test images and zips generated in memory (no binary fixtures in the repository but the labeled faces).

The face comes from scikit-image's `astronaut()` (public domain, one frontal face around (175..265, 76..166)),
or from the labeled face photos in tests/fixtures/faces (`labeled_head_photo`).
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

WIDTH, HEIGHT = 295, 413
# The astronaut's head and shoulders, 220×300 (about 5:7), face in the upper middle.
HEAD_CROP = (110, 0, 330, 300)


@functools.cache
def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def head_crop(scale: float = 1.0) -> Image.Image:
    crop = Image.fromarray(astronaut()).crop(HEAD_CROP)
    if scale != 1.0:
        crop = crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.Resampling.LANCZOS)
    return crop


def canvas(
    background: tuple[int, int, int] = (255, 255, 255), size: tuple[int, int] = (WIDTH, HEIGHT)
) -> Image.Image:
    return Image.new("RGB", size, background)


def portrait(background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """The head crop pasted on a 295×413 canvas: 37 px margins left and right, 40 px at the top."""
    image = canvas(background)
    crop = head_crop()
    image.paste(crop, ((WIDTH - crop.width) // 2, 40))
    return image


def jpeg(image: Image.Image, quality: int = 85, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, **options)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@functools.cache
def good_head_photo() -> bytes:
    return jpeg(portrait())


def png_head_photo() -> bytes:
    return png(portrait())


def oversized_head_photo() -> bytes:
    """Quality 100 and noise on the person (the white border stays white): well over 80 KB."""
    image = np.asarray(portrait()).astype(np.int16)
    rng = np.random.default_rng(1)
    noise = rng.integers(-12, 13, size=image.shape, dtype=np.int16)
    inner = (slice(40, HEIGHT), slice(37, WIDTH - 37))
    image[inner] += noise[inner]
    return jpeg(Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)), quality=100, subsampling=0)


def square_head_photo(side: int = 600) -> bytes:
    image = canvas(size=(side, side))
    crop = head_crop(1.5)
    image.paste(crop, ((side - crop.width) // 2, 60))
    return jpeg(image)


def grey_background_head_photo() -> bytes:
    return jpeg(portrait(background=(150, 150, 150)))


def blank_photo() -> bytes:
    return jpeg(canvas())


def two_faces_photo() -> bytes:
    image = canvas()
    crop = head_crop(0.6)
    image.paste(crop, (20, 60))
    image.paste(crop, (WIDTH - 20 - crop.width, 60))
    return jpeg(image)


def blurred_head_photo(radius: float = 2.0) -> bytes:
    """Out of focus: the face is still found (radius ≤ 2) but the Laplacian variance drops below 60."""
    return jpeg(portrait().filter(ImageFilter.GaussianBlur(radius)))


def exif_rotated_head_photo() -> bytes:
    """The good photo stored lying on its side, with EXIF orientation 6 (rotate 90° clockwise to view)."""
    stored = portrait().transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return jpeg(stored, exif=exif.tobytes())


def side_by_side(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.concatenate([image, image], axis=1))


# ---- zips ----

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@functools.cache
def small_jpeg() -> bytes:
    return jpeg(canvas(size=(40, 40)), quality=60)


@functools.cache
def small_png() -> bytes:
    return png(canvas(size=(40, 40)))


def make_zip(
    entries: Iterable[tuple[str | zipfile.ZipInfo, bytes]],
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


def gbk_named_zip(name: str, content: bytes) -> bytes:
    """A zip whose entry name is stored as GBK bytes without the UTF-8 flag (as Chinese Windows tools do)."""
    placeholder = "N" * len(name.encode("gbk"))
    data = bytearray(make_zip([(placeholder, content)]))
    raw = name.encode("gbk")
    assert data.count(placeholder.encode()) == 2  # local header and central directory
    return bytes(data.replace(placeholder.encode(), raw))


def forge_sizes(data: bytes, declared: int) -> bytes:
    """Rewrite the declared uncompressed size of every entry (local headers and central directory)."""
    out = bytearray(data)
    offset = 0
    while (offset := out.find(b"PK\x03\x04", offset)) != -1:
        out[offset + 22 : offset + 26] = declared.to_bytes(4, "little")
        offset += 4
    offset = 0
    while (offset := out.find(b"PK\x01\x02", offset)) != -1:
        out[offset + 24 : offset + 28] = declared.to_bytes(4, "little")
        offset += 4
    return bytes(out)


@functools.cache
def bomb() -> bytes:
    """One entry of 50 MB of zeros: about 50 KB compressed (ratio ≈ 1000)."""
    return make_zip([("110101198001010010$报名表.pdf", b"\x00" * (50 * 1024 * 1024))])


def applicant_files(id_number: str, documents: Iterable[str]) -> list[tuple[str, bytes]]:
    files = []
    for document in documents:
        extension = "jpg" if document == "头像" else "png"
        files.append(
            (f"{id_number}${document}.{extension}", small_jpeg() if extension == "jpg" else small_png())
        )
    return files


# ---- head photos made from the labeled face photos (tests/fixtures/faces, MIT licence) ----

FACES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "faces"


@functools.cache
def labeled_face(name: str = "obama") -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The labeled photo `name` and its face box (left, top, right, bottom) as dlib finds it."""
    from servicekit import faces

    image = Image.open(FACES / f"{name}.jpg").convert("RGB")
    [face] = faces.detect_faces(np.asarray(image))[:1]
    return image, face.box


def labeled_head_photo(
    name: str = "obama", *, tilt: float = 0.0, size: tuple[int, int] = (WIDTH, HEIGHT), quality: int = 85
) -> bytes:
    """A head photo made from a labeled face photo: the head and shoulders (the face box × 1.9 wide, 5:7) on
    white with a margin of 1/12 of the width, `size` pixels. `tilt`: degrees the head is turned clockwise in
    the picture plane about the face's centre (the eye line tilts as much, the right eye lowering)."""
    image, (left, top, right, bottom) = labeled_face(name)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    if tilt:
        image = image.rotate(
            -tilt, resample=Image.Resampling.BICUBIC, center=(cx, cy), fillcolor=(255, 255, 255)
        )
    crop_width = (right - left) * 1.9
    crop_height = crop_width * 7 / 5
    # the crop on white where it reaches past the photo's edges (Pillow's crop would fill black)
    crop = canvas(size=(round(crop_width), round(crop_height)))
    crop.paste(image, (-round(cx - crop_width / 2), -round(cy - crop_height * 0.45)))
    width, height = size
    margin = round(width / 12)
    inner = crop.resize((width - 2 * margin, height - 2 * margin - margin), Image.Resampling.LANCZOS)
    photo = canvas(size=size)
    photo.paste(inner, (margin, 2 * margin))
    return jpeg(photo, quality=quality)
