"""The certificate as a document: the signed QR token, the verification URL and the PDF (rendered on demand,
so it always shows the current state; the head photo is read from enrollment's bucket at render time)."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from servicekit.logging import get_logger
from servicekit.objectstore import ObjectStore

from ..adapters.document import CertificateDocument, render_certificate_pdf
from ..adapters.signing import CertificateSigner, VerificationClaims
from ..domain.certificate import Certificate
from ..settings import CertificationSettings

log = get_logger(__name__)

VERIFY_PATH = "/api/certification/verify"  # the JSON (or plain HTML) answer the verification page calls


def claims_of(cert: Certificate, institution_name: str) -> VerificationClaims:
    return VerificationClaims.for_holder(
        number=cert.number,
        holder_name=cert.holder_name,
        id_number=cert.id_number,
        position=cert.position,
        specialisation=cert.specialisation,
        institution=institution_name,
        issued_on=cert.issued_on,
    )


def verify_url(settings: CertificationSettings, token: str) -> str:
    """What the QR code holds: the public verification page (CERTIFICATION_PUBLIC_BASE_URL +
    CERTIFICATION_VERIFY_PAGE_PATH) with the signed token."""
    path = "/" + settings.verify_page_path.strip().strip("/")
    return f"{settings.public_base_url.rstrip('/')}{path}?token={quote(token, safe='')}"


async def head_photo(settings: CertificationSettings, cert: Certificate) -> bytes | None:
    """The enrollment head photo named by the certificate (certification may read those objects)."""
    if not cert.head_photo_key:
        return None
    try:
        store = ObjectStore(settings, bucket=cert.head_photo_bucket or None)
        return await store.get(cert.head_photo_key)
    except Exception as exc:  # a missing photo must not make the certificate undownloadable
        log.warning(
            "certificate.photo_unavailable", certificate_id=cert.certificate_id, error=repr(exc)[:200]
        )
        return None


async def render_pdf(
    settings: CertificationSettings,
    signer: CertificateSigner,
    cert: Certificate,
    institution_name: str,
) -> bytes:
    token = signer.token(claims_of(cert, institution_name))
    doc = CertificateDocument(
        number=cert.number,
        holder_name=cert.holder_name,
        gender=cert.gender,
        id_number=cert.id_number,
        position=cert.position,
        specialisation=cert.specialisation,
        institution_name=institution_name,
        issued_on=cert.issued_on,
        photo=await head_photo(settings, cert),
        verify_url=verify_url(settings, token),
        state_label=cert.state_label,
    )
    return await asyncio.to_thread(render_certificate_pdf, doc)
