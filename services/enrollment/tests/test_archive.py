from __future__ import annotations

import importlib.util
import io
import stat
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from enrollment.adapters import archive
from enrollment.adapters.archive import ArchiveLimits, ArchiveRefused, Member, read_zip
from enrollment.domain.materials import materials_report
from enrollment.domain.reference import MATERIAL_DOCUMENTS


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

ID_A = "110101198001010010"
ID_B = "330102199003071220"
LIMITS = ArchiveLimits()


class Decompressed:
    """Counts the bytes decompressed out of zip entries (every `read` of an entry's stream): how much work a
    refusal cost, without looking at the clock."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bytes = 0
        original = zipfile.ZipExtFile.read

        def read(stream: zipfile.ZipExtFile, n: int | None = -1) -> bytes:
            data = original(stream, n)
            self.bytes += len(data)
            return data

        monkeypatch.setattr(zipfile.ZipExtFile, "read", read)

    def since(self, mark: int) -> int:
        return self.bytes - mark


def refused(data: bytes, limits: ArchiveLimits = LIMITS) -> ArchiveRefused:
    with pytest.raises(ArchiveRefused) as caught:
        read_zip(data, limits)
    assert isinstance(caught.value, ValueError)
    return caught.value


def test_valid_batch_zip_with_progress() -> None:
    files = [
        *imaging.applicant_files(ID_A, MATERIAL_DOCUMENTS),
        *[(f"批次/{n}", c) for n, c in imaging.applicant_files(ID_B, MATERIAL_DOCUMENTS)],
        (f"{ID_B}$报名表.pdf", imaging.PDF_BYTES),
        ("批次/", b""),
        ("__MACOSX/批次/._x.jpg", b"\x00\x05\x16\x07 AppleDouble"),
        (".DS_Store", b"\x00\x00\x00\x01Bud1"),
    ]
    calls: list[tuple[int, int]] = []
    members = read_zip(
        imaging.make_zip(files), LIMITS, progress=lambda done, total: calls.append((done, total))
    )
    assert len(members) == 13
    assert calls == [(i, 13) for i in range(1, 14)]
    by_name = {m.name: m for m in members}
    head = by_name[f"{ID_A}$头像.jpg"]
    assert head == Member(f"{ID_A}$头像.jpg", imaging.small_jpeg(), "image/jpeg")
    assert by_name[f"批次/{ID_B}$身份证正面.png"].content_type == "image/png"
    assert by_name[f"{ID_B}$报名表.pdf"].content_type == "application/pdf"

    report = materials_report([m.name for m in members], [ID_A, ID_B])
    assert report.applicants[ID_A].complete
    assert report.applicants[ID_B].duplicated == ("报名表",)


def test_file_object_input() -> None:
    data = imaging.make_zip(imaging.applicant_files(ID_A, ["头像"]))
    assert [m.name for m in read_zip(io.BytesIO(data))] == [f"{ID_A}$头像.jpg"]


def test_stored_entries() -> None:
    data = imaging.make_zip(imaging.applicant_files(ID_A, ["头像"]), compression=zipfile.ZIP_STORED)
    assert len(read_zip(data)) == 1


def test_gbk_and_utf8_names() -> None:
    name = f"材料/{ID_A}$头像.jpg"
    members = read_zip(imaging.gbk_named_zip(name, imaging.small_jpeg()))
    assert [m.name for m in members] == [name]
    members = read_zip(imaging.make_zip([(name, imaging.small_jpeg())]))  # zipfile sets the UTF-8 flag
    assert [m.name for m in members] == [name]


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04" + b"\x00" * 40, imaging.PDF_BYTES])
def test_not_a_zip(data: bytes) -> None:
    assert refused(data).code == "not_a_zip"


@pytest.mark.parametrize(
    "name", ["../x.jpg", "a/../../x.jpg", "/etc/x.jpg", "C:\\x.jpg", "c:/x.jpg", "a\\..\\x.jpg"]
)
def test_unsafe_paths(name: str) -> None:
    error = refused(
        imaging.make_zip(
            [
                (imaging.applicant_files(ID_A, ["报名表"])[0][0], imaging.small_png()),
                (name, imaging.small_jpeg()),
            ]
        )
    )
    assert (error.code, error.entry) == ("unsafe_path", name)
    assert name in error.message


def test_symlink_is_refused() -> None:
    info = zipfile.ZipInfo(f"{ID_A}$头像.jpg")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    error = refused(imaging.make_zip([(info, b"/etc/passwd")]))
    assert error.code == "unsafe_path" and "符号链接" in error.message


def test_encrypted_entry_is_refused() -> None:
    data = bytearray(imaging.make_zip(imaging.applicant_files(ID_A, ["头像"])))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature) + flag_offset
        data[at] |= 0x01  # general purpose flag bit 0: encrypted
    assert refused(bytes(data)).code == "encrypted"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("inner.zip", imaging.make_zip([("a.txt", b"a")])),
        ("inner.rar", b"whatever"),
        ("inner.7z", b"whatever"),
        ("inner.tar.gz", b"whatever"),
        ("data.bin", imaging.make_zip([("a.txt", b"a")])),  # a zip by its bytes
        (f"{ID_A}$学历证书.pdf", b"Rar!\x1a\x07\x00" + b"\x00" * 20),
        ("x.dat", b"7z\xbc\xaf\x27\x1c" + b"\x00" * 20),
        ("x.dat", b"\x1f\x8b\x08" + b"\x00" * 20),
        ("x.dat", b"\x00" * 257 + b"ustar\x0000" + b"\x00" * 250),
    ],
)
def test_nested_archives(name: str, content: bytes) -> None:
    error = refused(imaging.make_zip([(name, content)]))
    assert (error.code, error.entry) == ("nested_archive", name)


def test_too_many_entries() -> None:
    files = [(f"{i:018d}$头像.jpg", imaging.small_jpeg()) for i in range(2001)]
    error = refused(imaging.make_zip(files, compression=zipfile.ZIP_STORED))
    assert error.code == "too_many_entries" and "2,001" in error.message and "2,000" in error.message
    junk = [(f"__MACOSX/._{i}", b"") for i in range(10)]
    assert len(read_zip(imaging.make_zip(files[:2000] + junk, compression=zipfile.ZIP_STORED))) == 2000


def test_entries_are_bounded_by_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small batch's zip holds six documents per applicant and a small margin: ten thousand entries for
    two applicants are refused whole from the central directory, before a byte is decompressed."""
    two = ArchiveLimits(max_entries=30_000, entry_margin=20).for_batch(2, len(MATERIAL_DOCUMENTS))
    assert (two.batch_entries, two.entries_bound) == (32, 32)
    flood = [(f"{ID_A}$报名表{i}.pdf", imaging.PDF_BYTES) for i in range(10_000)]
    decompressed = Decompressed(monkeypatch)
    error = refused(imaging.make_zip(flood, compression=zipfile.ZIP_STORED), two)
    assert error.code == "too_many_entries" and decompressed.bytes == 0
    assert "10,000 个文件" in error.message and "本批次的上限 32 个" in error.message
    assert "2 名学员 × 每人 6 份资料 + 20 个余量" in error.message and "未保存任何资料" in error.message


@pytest.mark.parametrize(("count", "ok"), [(32, True), (33, False)])
def test_entry_bound_boundary(count: int, ok: bool) -> None:
    two = ArchiveLimits(entry_margin=20).for_batch(2, 6)
    files = [(f"{i:018d}$报名表.pdf", imaging.PDF_BYTES) for i in range(count)]
    junk = [(f"__MACOSX/._{i}", b"") for i in range(count)] + [("资料/", b"")]  # not counted
    data = imaging.make_zip(files + junk, compression=zipfile.ZIP_STORED)
    if ok:
        assert len(read_zip(data, two)) == count
    else:
        assert refused(data, two).code == "too_many_entries"


def test_entry_bound_is_configuration() -> None:
    assert ArchiveLimits(entry_margin=0).for_batch(3, 6).entries_bound == 18
    # the platform's limit still holds for a batch too large for it
    huge = ArchiveLimits(max_entries=30_000).for_batch(10_000, 6)
    assert huge.entries_bound == 30_000
    files = [(f"{i:018d}$报名表.pdf", b"%PDF-") for i in range(31)]
    error = refused(imaging.make_zip(files), ArchiveLimits(max_entries=30).for_batch(10, 6))
    assert "超过上限 30 个" in error.message


def test_settings_bound_the_archive_by_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    from enrollment.settings import EnrollmentSettings

    monkeypatch.setenv("ENROLLMENT_ZIP_ENTRY_MARGIN", "4")
    limits = EnrollmentSettings().archive_limits()
    assert (limits.max_entries, limits.entry_margin) == (30_000, 4)
    assert limits.for_batch(5, 6).entries_bound == 34


def test_one_byte_over_the_entry_limit_reads_in_bytes() -> None:
    content = b"\xff\xd8\xff" + b"\x00" * (1024 * 1024 - 2)  # 1 MiB + 1 byte
    data = imaging.make_zip([("a.jpg", content)], compression=zipfile.ZIP_STORED)
    error = refused(data, ArchiveLimits(max_entry_bytes=1024 * 1024))
    assert error.code == "too_large"
    assert "1,048,577 字节" in error.message and "1,048,576 字节（1.0 MB）" in error.message


def test_compression_bomb(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = imaging.bomb()
    assert len(bomb) < 100 * 1024
    decompressed = Decompressed(monkeypatch)
    error = refused(bomb)
    assert error.code == "compression_ratio" and "压缩炸弹" in error.message
    assert decompressed.bytes == 0  # refused by its headers, before any decompression
    # forged headers: declared sizes tiny and harmless, the real stream 50 MB — decompression stops early
    forged = imaging.forge_sizes(bomb, 1000)
    assert refused(forged).code == "not_a_zip"
    assert decompressed.bytes <= 1000
    generous = ArchiveLimits(max_ratio=1e9, max_entry_bytes=10 * 1024 * 1024)
    mark = decompressed.bytes
    assert refused(forged, generous).code == "not_a_zip"  # never more than the declared bytes
    assert decompressed.since(mark) <= 1000
    mark = decompressed.bytes
    assert refused(bomb, generous).code == "too_large"
    assert decompressed.since(mark) == 0  # its declared 50 MB are over the 10 MB limit


def test_size_limits() -> None:
    noise = bytes(range(256)) * 4096  # 1 MiB, compresses ~1:1 as stored
    one = imaging.make_zip([("a.jpg", b"\xff\xd8\xff" + noise)], compression=zipfile.ZIP_STORED)
    error = refused(one, ArchiveLimits(max_entry_bytes=512 * 1024))
    assert (error.code, error.entry) == ("too_large", "a.jpg") and "a.jpg" in error.message
    several = imaging.make_zip(
        [(f"{i}.jpg", b"\xff\xd8\xff" + noise) for i in range(3)], compression=zipfile.ZIP_STORED
    )
    assert refused(several, ArchiveLimits(max_total_bytes=2 * 1024 * 1024)).code == "too_large"
    assert len(read_zip(several, ArchiveLimits(max_total_bytes=4 * 1024 * 1024))) == 3


def test_lying_declared_size_is_refused() -> None:
    content = b"\xff\xd8\xff" + bytes(range(256)) * 1024
    data = imaging.make_zip([("a.jpg", content)], compression=zipfile.ZIP_STORED)
    error = refused(imaging.forge_sizes(data, 100), ArchiveLimits(max_entry_bytes=200))
    assert error.code == "not_a_zip"  # zipfile stops at the declared size, then the CRC fails


def test_actual_bytes_are_counted_while_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even with the header checks bypassed, decompression stops as soon as a limit is crossed (at most one
    chunk past it), not after the bomb's 50 MB."""
    monkeypatch.setattr(archive, "_check_declared", lambda wanted, limits: None)
    bomb = imaging.bomb()
    compressed = zipfile.ZipFile(io.BytesIO(bomb)).infolist()[0].compress_size
    decompressed = Decompressed(monkeypatch)
    assert refused(bomb).code == "compression_ratio"
    assert decompressed.bytes <= LIMITS.max_ratio * compressed + archive.CHUNK
    mark = decompressed.bytes
    assert refused(bomb, ArchiveLimits(max_ratio=1e9)).code == "too_large"
    assert decompressed.since(mark) <= LIMITS.max_entry_bytes + archive.CHUNK
    mark = decompressed.bytes
    limits = ArchiveLimits(max_ratio=1e9, max_entry_bytes=10**9, max_total_bytes=1024 * 1024)
    assert refused(bomb, limits).code == "too_large"
    assert decompressed.since(mark) <= limits.max_total_bytes + archive.CHUNK


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (f"{ID_A}$头像.jpg", imaging.PDF_BYTES),
        (f"{ID_A}$身份证正面.png", b"\xff\xd8\xff\xe0 jpeg bytes"),
        (f"{ID_A}$报名表.pdf", b"\x89PNG\r\n\x1a\n png bytes"),
        (f"{ID_A}$报名表.JPEG", b"plain text"),
    ],
)
def test_type_mismatch(name: str, content: bytes) -> None:
    error = refused(imaging.make_zip([(name, content)]))
    assert (error.code, error.entry) == ("type_mismatch", name)
    assert name in error.message
