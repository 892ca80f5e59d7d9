"""`/api/gateway/persons/…`: one-time activation codes for persons' accounts (trainees, certificate
holders)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from servicekit.auth import Identity, Role, require_roles

from .deps import CurrentSession, GatewayDep
from .schemas import ActivationCodeResponse

router = APIRouter(prefix="/api/gateway/persons", tags=["学员账号激活"])

CodeIssuer = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE, Role.INSTITUTION, Role.ADMIN))]


@router.post(
    "/{id_number}/activation-code",
    status_code=status.HTTP_200_OK,
    response_model=ActivationCodeResponse,
    summary=(
        "为学员或持证人生成一次性激活码（报名该学员的企业、学员报名的培训机构、录入其旧版证书的培训机构"
        "或管理员；新码替换旧码）"
    ),
    description=(
        "激活码为 8 位数字，只在本次响应中返回一次，同时以短信发送到学员报名时登记的手机号（没有手机号时"
        "只在本次响应中返回）。平台从报名名单和证书（包括录入的旧版岗位证书）得知人员；"
        "只持有旧版证书的人员由录入该证书的培训机构或管理员生成激活码。"
        "学员凭身份证号、激活码在 POST /api/gateway/auth/activate 设置自己的密码后即可登录。"
    ),
)
async def issue_activation_code(
    id_number: Annotated[str, Path(min_length=1, max_length=32, description="学员或持证人的 18 位身份证号")],
    response: Response,
    session: CurrentSession,
    _: CodeIssuer,
    gateway: GatewayDep,
) -> ActivationCodeResponse:
    issued = await gateway.activation.issue_code(session.identity, id_number)
    response.headers["Cache-Control"] = "no-store"
    return ActivationCodeResponse(
        id_number=issued.id_number,
        name=issued.name,
        code=issued.code,
        expires_at=issued.expires_at,
        max_attempts=issued.max_attempts,
        sent_to=issued.sent_to,
    )
