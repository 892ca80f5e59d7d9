"""Materials of a batch: entry names `<ID number>$<document>.<ext>`, the per-applicant report, and the
upload's problems grouped and ordered for the job's result (pure)."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

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
        """Every problem as one Chinese line, most important first (`problems`)."""
        return [p.message for p in ordered(self.problems())]

    def problems(self) -> list[Problem]:
        """What the names alone tell: entries that cannot be used, documents given twice, documents missing
        (missing from this archive: an earlier upload may have brought them, see `missing_problem`)."""
        found = [Problem(u.code, u.message, entry=u.entry) for u in self.unknown]
        found += [Problem(NOT_IN_BATCH, f.message, entry=f.entry) for f in self.not_in_batch]
        found += [
            Problem(DUPLICATE_DOCUMENT, d.message, id_number=d.id_number, entry=d.entries[0])
            for d in self.duplicates
        ]
        found += [missing_problem(a.id_number, a.missing) for a in self.applicants.values() if a.missing]
        return found


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


# ---- the upload's problems: grouped by code, most important first, few examples each ----

NOT_IN_BATCH = "not_in_batch"
DUPLICATE_DOCUMENT = "duplicate_document"
HEAD_PHOTO_LOCKED = "head_photo_locked"
MISSING_DOCUMENTS = "missing_documents"
CORRUPT_FILE = "corrupt_file"  # servicekit.documents' codes of a file that does not decode
IMAGE_TOO_LARGE = "image_too_large"

# Most important first: what makes an entry unusable (and the whole archive, when no entry is usable), named
# by its file; then head photos refused by the photo rules (any other code: `_PHOTO_RANK`); then head photos
# kept because the exam uses them; last what is merely missing, often a consequence of the first.
_RANKS: dict[str, int] = {
    "bad_extension": 0,
    "unknown_document": 1,
    "bad_name": 2,
    NOT_IN_BATCH: 3,
    DUPLICATE_DOCUMENT: 4,
    CORRUPT_FILE: 4,
    IMAGE_TOO_LARGE: 4,
    HEAD_PHOTO_LOCKED: 6,
    MISSING_DOCUMENTS: 7,
}
_PHOTO_RANK = 5

_GROUP_TITLES: dict[str, str] = {
    "bad_extension": "{n} 个文件的格式不被接受",
    "unknown_document": "{n} 个文件的材料名称无法识别",
    "bad_name": "{n} 个文件的名称不符合“身份证号$材料名称.扩展名”",
    NOT_IN_BATCH: "{n} 个文件的身份证号不在本批次中",
    DUPLICATE_DOCUMENT: "{n} 份材料有多个文件，均未保存",
    CORRUPT_FILE: "{n} 个文件无法完整解码（已损坏或不完整），未保存",
    IMAGE_TOO_LARGE: "{n} 个图片的像素数超过上限，未保存",
    HEAD_PHOTO_LOCKED: "{n} 名学员的头像已用于考试人脸核验，压缩包中的头像未保存",
    MISSING_DOCUMENTS: "{n} 名学员缺少材料",
}
_PHOTO_TITLE = "{n} 名学员的头像不符合要求，头像未保存"


@dataclass(frozen=True)
class Problem:
    """One problem of an upload: stable `code`, Chinese `message` naming the file or the applicant."""

    code: str
    message: str
    entry: str | None = None
    id_number: str | None = None


def missing_problem(id_number: str, missing: Sequence[str]) -> Problem:
    return Problem(MISSING_DOCUMENTS, f"{id_number}：缺少材料：{'、'.join(missing)}", id_number=id_number)


def rank(code: str) -> int:
    return _RANKS.get(code, _PHOTO_RANK)


def ordered(problems: Sequence[Problem]) -> list[Problem]:
    """Most important first (stable within a rank)."""
    return sorted(problems, key=lambda p: rank(p.code))


def grouped(problems: Sequence[Problem], *, max_examples: int = 10) -> list[dict[str, Any]]:
    """One group per code, most important first: {code, count, message, examples}. The message gives the
    count and the first problem in full; `examples` lists at most `max_examples` problems (a 30,000-entry
    archive still makes a short report)."""
    groups: dict[str, list[Problem]] = {}
    for problem in ordered(problems):
        groups.setdefault(problem.code, []).append(problem)
    out = []
    for code, items in groups.items():
        title = _GROUP_TITLES.get(code, _PHOTO_TITLE).format(n=f"{len(items):,}", code=code)
        first = items[0].message + ("等" if len(items) > 1 else "")
        out.append(
            {
                "code": code,
                "count": len(items),
                "message": f"{title}：{first}",
                "examples": [
                    {
                        k: v
                        for k, v in (("entry", p.entry), ("id_number", p.id_number), ("message", p.message))
                        if v is not None
                    }
                    for p in items[:max_examples]
                ],
            }
        )
    return out


def summary(groups: Sequence[dict[str, Any]], *, head: str) -> str:
    """`head` and the most important group's message; how many other problems there are."""
    if not groups:
        return head
    rest = sum(g["count"] for g in groups[1:])
    more = f"；另有 {rest:,} 处其他问题（见 errors）" if rest else ""
    return f"{head}：{groups[0]['message']}{more}"
