"""Materials of a batch: entry names `<ID number>$<document>.<ext>` and the per-applicant report (pure)."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from .reference import MATERIAL_DOCUMENTS

HEAD_PHOTO = "头像"
ACCEPTED_EXTENSIONS: tuple[str, ...] = ("jpg", "jpeg", "png", "pdf")
HEAD_PHOTO_EXTENSIONS: tuple[str, ...] = ("jpg", "jpeg")

# Files that archivers and file managers add on their own; skipped without a word.
_JUNK_FOLDERS = ("__MACOSX",)
_JUNK_FILES = (".ds_store", "thumbs.db", "desktop.ini")

NAMING_RULE = "身份证号$材料名称.扩展名（如 110101198001010010$头像.jpg）"


@dataclass(frozen=True)
class ParsedName:
    id_number: str
    document: str
    extension: str  # lower case, without the dot


@dataclass(frozen=True)
class NameProblem:
    code: str  # bad_name | unknown_document | bad_extension
    message: str


def base_name(entry: str) -> str:
    """The file name of an archive entry without its folders (both `/` and `\\` separate)."""
    return entry.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def is_ignored(entry: str) -> bool:
    """Directories and operating-system junk (`__MACOSX/`, `.DS_Store`, `Thumbs.db`, `._*`)."""
    normalized = entry.replace("\\", "/")
    if normalized.endswith("/"):
        return True
    parts = [p for p in normalized.split("/") if p]
    if not parts:
        return True
    if any(p in _JUNK_FOLDERS for p in parts[:-1]):
        return True
    name = parts[-1]
    return name.lower() in _JUNK_FILES or name.startswith("._")


def allowed_extensions(document: str) -> tuple[str, ...]:
    return HEAD_PHOTO_EXTENSIONS if document == HEAD_PHOTO else ACCEPTED_EXTENSIONS


def normalize_id_number(value: str) -> str:
    """Full-width digits to ASCII, spaces trimmed, a lower-case check character `x` upper-cased."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def parse_entry_name(name: str) -> ParsedName | NameProblem:
    base = base_name(name)
    text = unicodedata.normalize("NFKC", base).strip()  # NFKC also turns the full-width ＄ into $
    if "$" not in text:
        return NameProblem("bad_name", f"文件“{base}”的名称缺少“$”，应为：{NAMING_RULE}")
    id_part, rest = text.split("$", 1)
    id_number = normalize_id_number(id_part)
    if not id_number:
        return NameProblem("bad_name", f"文件“{base}”的名称缺少身份证号，应为：{NAMING_RULE}")
    stem, dot, extension = rest.rpartition(".")
    if not dot:
        stem, extension = rest, ""
    document = stem.strip()
    extension = extension.strip().lower()
    if document not in MATERIAL_DOCUMENTS:
        return NameProblem(
            "unknown_document",
            f"文件“{base}”的材料名称“{document}”无法识别，允许的材料名称：{'、'.join(MATERIAL_DOCUMENTS)}",
        )
    allowed = allowed_extensions(document)
    if extension not in allowed:
        shown = f".{extension}" if extension else "（无扩展名）"
        return NameProblem(
            "bad_extension",
            f"文件“{base}”的格式 {shown} 不被接受，{document}只能是 {'/'.join(allowed)}",
        )
    return ParsedName(id_number=id_number, document=document, extension=extension)


@dataclass(frozen=True)
class UnknownEntry:
    entry: str
    code: str
    message: str


@dataclass(frozen=True)
class ForeignEntry:
    """An entry well named but for an ID number that is not in the batch."""

    entry: str
    id_number: str
    message: str


@dataclass(frozen=True)
class DuplicateDocument:
    id_number: str
    document: str
    entries: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class ApplicantMaterials:
    id_number: str
    found: dict[str, str]  # document → the archive entry holding it (the first one when duplicated)
    missing: tuple[str, ...]
    duplicated: tuple[str, ...]  # documents given more than once: ambiguous until the enterprise fixes it
    complete: bool
    messages: tuple[str, ...]


@dataclass(frozen=True)
class MaterialsReport:
    applicants: dict[str, ApplicantMaterials]  # by ID number, in batch order
    unknown: tuple[UnknownEntry, ...] = ()
    not_in_batch: tuple[ForeignEntry, ...] = ()
    duplicates: tuple[DuplicateDocument, ...] = ()
    ignored: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        """Every applicant has every document once, and nothing else is in the archive."""
        return (
            all(a.complete for a in self.applicants.values())
            and not self.unknown
            and not self.not_in_batch
            and not self.duplicates
        )

    @property
    def incomplete_applicants(self) -> list[str]:
        return [i for i, a in self.applicants.items() if not a.complete]

    def messages(self) -> list[str]:
        """Every problem as one Chinese line, applicants first."""
        lines = [f"{a.id_number}：{m}" for a in self.applicants.values() for m in a.messages]
        lines += [u.message for u in self.unknown]
        lines += [f.message for f in self.not_in_batch]
        return lines


def materials_report(entries: Sequence[str], batch_id_numbers: Collection[str]) -> MaterialsReport:
    batch = [normalize_id_number(i) for i in batch_id_numbers]
    in_batch = set(batch)
    by_applicant: dict[str, dict[str, list[str]]] = {i: {} for i in batch}
    unknown: list[UnknownEntry] = []
    foreign: list[ForeignEntry] = []
    ignored: list[str] = []

    for entry in entries:
        if is_ignored(entry):
            ignored.append(entry)
            continue
        parsed = parse_entry_name(entry)
        if isinstance(parsed, NameProblem):
            unknown.append(UnknownEntry(entry, parsed.code, parsed.message))
            continue
        if parsed.id_number not in in_batch:
            foreign.append(
                ForeignEntry(
                    entry,
                    parsed.id_number,
                    f"文件“{base_name(entry)}”的身份证号 {parsed.id_number} 不在本批次的报名人员中",
                )
            )
            continue
        by_applicant[parsed.id_number].setdefault(parsed.document, []).append(entry)

    applicants: dict[str, ApplicantMaterials] = {}
    duplicates: list[DuplicateDocument] = []
    for id_number, documents in by_applicant.items():
        missing = tuple(d for d in MATERIAL_DOCUMENTS if d not in documents)
        duplicated = tuple(d for d in MATERIAL_DOCUMENTS if len(documents.get(d, ())) > 1)
        messages: list[str] = []
        if missing:
            messages.append(f"缺少材料：{'、'.join(missing)}")
        for document in duplicated:
            names = tuple(documents[document])
            shown = "、".join(base_name(n) for n in names)
            message = f"“{document}”有 {len(names)} 个文件（{shown}），请只保留一个"
            duplicates.append(DuplicateDocument(id_number, document, names, f"{id_number}：{message}"))
            messages.append(message)
        applicants[id_number] = ApplicantMaterials(
            id_number=id_number,
            found={d: documents[d][0] for d in MATERIAL_DOCUMENTS if d in documents},
            missing=missing,
            duplicated=duplicated,
            complete=not missing and not duplicated,
            messages=tuple(messages),
        )
    return MaterialsReport(
        applicants=applicants,
        unknown=tuple(unknown),
        not_in_batch=tuple(foreign),
        duplicates=tuple(duplicates),
        ignored=tuple(ignored),
    )
