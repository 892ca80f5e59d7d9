"""Reading an uploaded materials zip safely: paths, nesting, bombs, encodings and sniffed types.

Any problem refuses the whole archive (`ArchiveRefused`) before anything is stored. The number of files
is checked first, from the central directory alone (a batch's zip holds six documents per applicant and a
small margin, never more than `max_entries`); then the declared sizes in the zip headers (cheap); and the
actual bytes are counted again while decompressing in chunks, stopping as soon as a limit is crossed.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from ..domain.materials import base_name, is_ignored

MiB = 1024 * 1024
CHUNK = 64 * 1024
HEAD_BYTES = 1024  # what the type check reads of each file

# Extensions of archive formats that may not be nested in the materials zip.
ARCHIVE_EXTENSIONS = frozenset(
    {
        "zip",
        "rar",
        "7z",
        "gz",
        "tgz",
        "tar",
        "bz2",
        "tbz2",
        "xz",
        "txz",
        "zst",
        "lz",
        "lzma",
        "z",
        "cab",
        "arj",
    }
)
# Magic numbers of archive formats: (offset, bytes, format name).
_ARCHIVE_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"PK\x03\x04", "ZIP"),
    (0, b"PK\x05\x06", "ZIP"),
    (0, b"PK\x07\x08", "ZIP"),
    (0, b"Rar!\x1a\x07", "RAR"),
    (0, b"7z\xbc\xaf\x27\x1c", "7z"),
    (0, b"\x1f\x8b", "gzip"),
    (0, b"BZh", "bzip2"),
    (0, b"\xfd7zXZ\x00", "xz"),
    (0, b"\x28\xb5\x2f\xfd", "zstd"),
    (257, b"ustar", "tar"),
)
CONTENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}
_TYPE_NAMES = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "pdf": "PDF"}
_DRIVE = re.compile(r"^[A-Za-z]:")
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 2000  # files (folders and OS junk aside), whatever the batch
    max_total_bytes: int = 500 * MiB
    max_entry_bytes: int = 20 * MiB
    max_ratio: float = 100.0
    # The batch's own bound: `documents_per_applicant` files for each of `batch_applicants` plus
    # `entry_margin` (a stray readme, a document given twice: reported, not refused). None: only max_entries.
    batch_applicants: int | None = None
    documents_per_applicant: int = 6
    entry_margin: int = 20

    def for_batch(self, applicants: int, documents_per_applicant: int) -> ArchiveLimits:
        return replace(self, batch_applicants=applicants, documents_per_applicant=documents_per_applicant)

    @property
    def batch_entries(self) -> int | None:
        if self.batch_applicants is None:
            return None
        return self.batch_applicants * self.documents_per_applicant + self.entry_margin

    @property
    def entries_bound(self) -> int:
        """The most files the archive may hold."""
        batch = self.batch_entries
        return self.max_entries if batch is None else min(self.max_entries, batch)


def _too_many_entries(count: int, limits: ArchiveLimits) -> ArchiveRefused:
    batch = limits.batch_entries
    if batch is not None and batch <= limits.max_entries:
        why = (
            f"超过本批次的上限 {batch:,} 个（{limits.batch_applicants:,} 名学员 × 每人 "
            f"{limits.documents_per_applicant} 份资料 + {limits.entry_margin} 个余量）"
        )
    else:
        why = f"超过上限 {limits.max_entries:,} 个"
    return ArchiveRefused(
        "too_many_entries",
        f"压缩包中有 {count:,} 个文件，{why}，已拒绝整个压缩包，未保存任何资料；"
        "请只放入本批次学员的报名资料（每人每份资料一个文件）",
    )


@dataclass(frozen=True)
class Member:
    name: str  # path inside the archive, decoded (UTF-8 or GBK), `/`-separated
    data: bytes
    content_type: str


class ArchiveRefused(ValueError):
    def __init__(self, code: str, message: str, entry: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.entry = entry


def decode_entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name: UTF-8 when flagged (bit 11); otherwise the legacy bytes tried as UTF-8, then GBK.

    Python decodes unflagged names as cp437; encoding back to cp437 recovers the raw bytes exactly.
    Chinese Windows tools (and Explorer's "send to compressed folder") write GBK without the flag.
    """
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    if raw.isascii():
        return info.filename
    for encoding in ("utf-8", "gb18030"):  # gb18030 is a superset of GBK
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _unsafe_path(name: str) -> bool:
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return True
    return any(part == ".." for part in re.split(r"[/\\]", name))


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _extension(name: str) -> str:
    base = base_name(name)
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def archive_format(head: bytes) -> str | None:
    """The archive format the first bytes announce (ZIP, RAR, 7z, gzip, bzip2, xz, zstd, tar), if any."""
    for offset, magic, name in _ARCHIVE_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


def matches_extension(extension: str, head: bytes) -> bool:
    """Whether the first bytes are of the type the extension claims (only JPEG, PNG and PDF are checked)."""
    if extension in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if extension == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension == "pdf":
        return b"%PDF-" in head[:1024]
    return True


def _mib(n: float) -> str:
    return f"{n / MiB:.1f} MB"


def _over(size: int, limit: int) -> tuple[str, str]:
    """A size over a limit and the limit, in MB, or in bytes when the MB would read the same."""
    if _mib(size) != _mib(limit):
        return _mib(size), _mib(limit)
    return f"{size:,} 字节", f"{limit:,} 字节（{_mib(limit)}）"


def _open(data: bytes | BinaryIO | str | os.PathLike[str]) -> zipfile.ZipFile:
    source: BinaryIO | str | os.PathLike[str] = (
        io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data
    )
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ArchiveRefused("not_a_zip", "上传的文件不是有效的 zip 压缩包") from exc


@dataclass(frozen=True)
class Entry:
    """One file of a checked archive; its bytes are read with `ZipArchive.read` (one file at a time)."""

    name: str
    content_type: str
    size: int
    info: zipfile.ZipInfo = field(compare=False, repr=False)


class ZipArchive:
    """A materials zip opened from its spooled file (or bytes), checked as a whole without keeping the files'
    bytes: `check()` refuses the archive (`ArchiveRefused`) or lists its files, each decompressed in chunks,
    counted against every limit and its type sniffed from its first bytes, then dropped; `read(entry)` gives
    one file's bytes, counted again. At most one file (≤ `max_entry_bytes`) is in memory at a time."""

    def __init__(self, source: bytes | BinaryIO | str | os.PathLike[str], limits: ArchiveLimits) -> None:
        self.limits = limits
        self.archive = _open(source)

    def __enter__(self) -> ZipArchive:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.archive.close()

    def check(self, progress: Callable[[int, int], None] | None = None) -> list[Entry]:
        limits = self.limits
        wanted: list[tuple[zipfile.ZipInfo, str]] = []
        for info in self.archive.infolist():
            name = decode_entry_name(info)
            if _unsafe_path(name):
                raise ArchiveRefused("unsafe_path", f"压缩包中的“{name}”使用了绝对路径或“..”，已拒绝", name)
            if _is_symlink(info):
                raise ArchiveRefused("unsafe_path", f"压缩包中的“{name}”是符号链接，已拒绝", name)
            if info.is_dir() or is_ignored(name):
                continue
            wanted.append((info, name))
        if len(wanted) > limits.entries_bound:  # from the central directory: nothing extracted yet
            raise _too_many_entries(len(wanted), limits)
        _check_declared(wanted, limits)

        entries: list[Entry] = []
        total = 0
        for done, (info, name) in enumerate(wanted, start=1):
            head = bytearray()

            def keep_head(chunk: bytes, head: bytearray = head) -> None:
                if len(head) < HEAD_BYTES:
                    head.extend(chunk[: HEAD_BYTES - len(head)])

            size = _stream_entry(self.archive, info, name, limits, total, keep_head)
            total += size
            extension = _extension(name)
            _check_type(name, extension, bytes(head))
            entries.append(Entry(name, CONTENT_TYPES.get(extension, "application/octet-stream"), size, info))
            if progress is not None:
                progress(done, len(wanted))
        return entries

    def read(self, entry: Entry) -> bytes:
        chunks: list[bytes] = []
        _stream_entry(self.archive, entry.info, entry.name, self.limits, 0, chunks.append)
        return b"".join(chunks)


def read_zip(
    data: bytes | BinaryIO | str | os.PathLike[str],
    limits: ArchiveLimits = ArchiveLimits(),
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Member]:
    """Every file of the archive with its bytes (small archives, tests), or `ArchiveRefused` for the whole
    archive. An upload reads its archive with `ZipArchive`, one file at a time."""
    with ZipArchive(data, limits) as archive:
        return [Member(e.name, archive.read(e), e.content_type) for e in archive.check(progress)]


def _check_declared(wanted: list[tuple[zipfile.ZipInfo, str]], limits: ArchiveLimits) -> None:
    declared_total = 0
    for info, name in wanted:
        if info.flag_bits & _ENCRYPTED_FLAG:
            raise ArchiveRefused("encrypted", f"压缩包中的“{name}”已加密，请上传未加密的压缩包", name)
        if _extension(name) in ARCHIVE_EXTENSIONS:
            raise ArchiveRefused("nested_archive", f"压缩包中的“{name}”是压缩文件，不允许嵌套压缩包", name)
        if info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise ArchiveRefused(
                "compression_ratio",
                f"压缩包中的“{name}”压缩比异常（{_mib(info.file_size)} 压缩为 {info.compress_size} 字节），"
                "疑似压缩炸弹，已拒绝",
                name,
            )
        if info.file_size > limits.max_entry_bytes:
            size, limit = _over(info.file_size, limits.max_entry_bytes)
            raise ArchiveRefused(
                "too_large", f"压缩包中的“{name}”解压后 {size}，超过单个文件上限 {limit}", name
            )
        declared_total += info.file_size
        if declared_total > limits.max_total_bytes:
            raise ArchiveRefused(
                "too_large", f"压缩包解压后的总大小超过上限 {_mib(limits.max_total_bytes)}", name
            )


def _stream_entry(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    name: str,
    limits: ArchiveLimits,
    total_before: int,
    sink: Callable[[bytes], object],
) -> int:
    """Decompress one entry in chunks, each given to `sink`, counting the real bytes against every limit;
    the entry's size."""
    size = 0
    ratio_cap = limits.max_ratio * max(info.compress_size, 1)
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > ratio_cap:
                    raise ArchiveRefused(
                        "compression_ratio", f"压缩包中的“{name}”压缩比异常，疑似压缩炸弹，已拒绝", name
                    )
                if size > limits.max_entry_bytes:
                    raise ArchiveRefused(
                        "too_large",
                        f"压缩包中的“{name}”解压后超过单个文件上限 {_mib(limits.max_entry_bytes)}",
                        name,
                    )
                if total_before + size > limits.max_total_bytes:
                    raise ArchiveRefused(
                        "too_large", f"压缩包解压后的总大小超过上限 {_mib(limits.max_total_bytes)}", name
                    )
                sink(chunk)
    except ArchiveRefused:
        raise
    except RuntimeError as exc:  # zipfile: encrypted entry without a password
        raise ArchiveRefused("encrypted", f"压缩包中的“{name}”已加密，请上传未加密的压缩包", name) from exc
    except NotImplementedError as exc:
        raise ArchiveRefused("not_a_zip", f"压缩包中的“{name}”使用了不支持的压缩方式", name) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ArchiveRefused("not_a_zip", f"压缩包中的“{name}”已损坏，无法读取", name) from exc
    return size


def _check_type(name: str, extension: str, content: bytes) -> None:
    head = content[:1024]
    found = archive_format(head)
    if found is not None:
        raise ArchiveRefused(
            "nested_archive", f"压缩包中的“{name}”实际是 {found} 压缩文件，不允许嵌套压缩包", name
        )
    if not matches_extension(extension, head):
        raise ArchiveRefused(
            "type_mismatch",
            f"压缩包中的“{name}”的内容不是 {_TYPE_NAMES[extension]} 文件，与扩展名 .{extension} 不符",
            name,
        )
