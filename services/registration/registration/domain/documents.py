"""The documents of a registration and the rules their files must follow (pure: bytes in, problems out)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentKind:
    name: str
    label: str
    required: bool


DOCUMENT_KINDS: tuple[DocumentKind, ...] = (
    DocumentKind("business_licence", "营业执照（分公司上传分公司营业执照）", True),
    DocumentKind("qualification_certificate", "企业资质证书", False),
    DocumentKind("commitment_letter", "企业承诺书（附件1，签字盖章）", True),
)
KINDS = {k.name: k for k in DOCUMENT_KINDS}

# What the bytes say, not what the name or the browser claims.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)
ALLOWED_LABEL = "JPEG、PNG 或 PDF"


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the file's first bytes, or None when it is none of the allowed types."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


@dataclass(frozen=True)
class DocumentProblem:
    kind: str
    message: str
    code: str

    def as_detail(self) -> dict[str, str]:
        return {"field": self.kind, "code": self.code, "message": self.message}


def check_file(kind: str, data: bytes, *, max_bytes: int) -> tuple[DocumentProblem | None, str, str]:
    """Size and type of one uploaded file: (problem or None, content type, extension)."""
    label = KINDS[kind].label
    if not data:
        return DocumentProblem(kind, f"{label}：文件为空", "empty_file"), "", ""
    if len(data) > max_bytes:
        return (
            DocumentProblem(
                kind,
                f"{label}：文件过大（{len(data) / 1048576:.1f} MB），不能超过 {max_bytes / 1048576:.0f} MB",
                "file_too_large",
            ),
            "",
            "",
        )
    sniffed = sniff(data)
    if sniffed is None:
        return (
            DocumentProblem(
                kind, f"{label}：文件格式不支持，只接受 {ALLOWED_LABEL}（按文件内容识别）", "unsupported_type"
            ),
            "",
            "",
        )
    return None, *sniffed


def missing_required(present: set[str]) -> list[DocumentProblem]:
    return [
        DocumentProblem(k.name, f"请上传{k.label}", "document_required")
        for k in DOCUMENT_KINDS
        if k.required and k.name not in present
    ]


def scope_hint(business_scope: str, keywords: tuple[str, ...]) -> str | None:
    """A hint for the reviewer when the business scope names no construction activity (it does not decide)."""
    if any(word in business_scope for word in keywords):
        return None
    return "经营范围未提及住房城乡建设领域施工活动，请核实是否为施工企业"
