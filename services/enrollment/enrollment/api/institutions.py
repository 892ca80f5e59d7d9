"""HTTP API of institution offers: publish (the institution itself, or an administrator), list, compare."""

from __future__ import annotations

from typing import Annotated, Any

from events.enrollment import OfferLine
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.errors import Forbidden, NotFound
from servicekit.paging import BoundedModel

from ..application import institutions as handlers
from ..application.sanctions import suspended_enrollment
from ..domain import institution as domain
from ..domain.institution import OfferForm
from .sanctions import Today

router = APIRouter(prefix="/api/enrollment", tags=["培训机构"])

AnyRole = Annotated[Identity, Depends(require_roles(*Role))]
Comparer = Annotated[
    Identity, Depends(require_roles(Role.ENTERPRISE, Role.INSTITUTION, Role.ADMIN, Role.REVIEWER))
]
InstitutionAccount = Annotated[Identity, Depends(require_roles(Role.INSTITUTION))]
Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]

Fee = Annotated[
    int | None, Field(default=None, strict=True, description="收费（单位：分）；不填表示不提供该方式")
]


class OfferLineRequest(BoundedModel):
    model_config = ConfigDict(extra="forbid")

    position: str = Field(
        max_length=20, description="岗位：施工员 质量员 安全员 标准员 材料员 机械员 劳务员 资料员"
    )
    specialisation: str | None = Field(
        default=None,
        max_length=20,
        description="专业方向（仅施工员、质量员，必填）：土建施工 装饰装修 设备安装 市政工程",
    )
    fee_online_fen: Fee = None
    fee_offline_fen: Fee = None


class OfferRequest(BoundedModel):
    """The whole offer; it replaces the one in force."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100, description="培训机构名称")
    city: str = Field(max_length=20, description="所在城市（浙江省设区市，如 杭州）")
    offers: list[OfferLineRequest] = Field(max_length=100, description="开设岗位及各培训方式的收费")
    features: str = Field(default="", description="机构特色")
    exam_locations: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=50, description="考试地点"
    )
    payment_methods: list[Annotated[str, Field(max_length=20)]] = Field(
        default_factory=list,
        max_length=5,
        description="缴费方式：online（线上支付）、offline（线下转账），至少一种",
    )

    def form(self) -> OfferForm:
        return OfferForm(
            name=self.name,
            city=self.city,
            offers=[OfferLine(**line.model_dump()) for line in self.offers],
            features=self.features,
            exam_locations=self.exam_locations,
            payment_methods=self.payment_methods,
        )


class AdminOfferRequest(OfferRequest):
    demo: bool = Field(default=False, description="演示数据标记")


class PublishResponse(BaseModel):
    institution_id: str
    changed: bool = Field(description="false：与现行招生信息相同，未重复发布")
    offer: dict[str, Any]


def _own_institution(identity: Identity) -> str:
    if not identity.org_id:
        raise Forbidden("当前培训机构账号未关联机构编号，请联系管理员", code="no_organisation")
    return identity.org_id


@router.get("/institutions", summary="按城市、岗位、培训方式查找培训机构（按名称排序，含该岗位各方式收费）")
async def list_institutions(
    _: AnyRole,
    rt: RuntimeDep,
    today: Today,
    city: str | None = Query(default=None, max_length=20, description="城市，如 杭州"),
    position: str | None = Query(default=None, max_length=20, description="岗位，如 施工员"),
    specialisation: str | None = Query(default=None, max_length=20, description="专业方向（施工员、质量员）"),
    mode: str | None = Query(default=None, max_length=20, description="培训方式：online 或 offline"),
    include_suspended: bool = Query(
        default=False,
        description="含暂停招生的机构（各带 suspension：期间与原因）；默认不含——暂停招生期间不出现在查找中",
    ),
) -> dict[str, Any]:
    query = domain.parse_filter(city=city, position=position, specialisation=specialisation, mode=mode)
    items = await handlers.list_institutions(
        rt.db,
        query,
        suspended=await suspended_enrollment(rt.db, today),
        include_suspended=include_suspended,
    )
    return {"items": items, "total": len(items)}


@router.get("/institutions/compare", summary="并排比较 2 至 5 家培训机构（岗位、各方式收费、特色、考试地点）")
async def compare_institutions(
    _: Comparer,
    rt: RuntimeDep,
    today: Today,
    ids: str = Query(max_length=400, description="培训机构编号，以逗号分隔，2 至 5 个"),
) -> dict[str, Any]:
    chosen = domain.parse_compare_ids(ids)
    suspended = await suspended_enrollment(rt.db, today, chosen)
    return await handlers.compare_institutions(rt.db, chosen, suspended=suspended)


@router.get("/institutions/me/offer", summary="本机构现行的招生信息（培训机构）")
async def my_offer(identity: InstitutionAccount, rt: RuntimeDep, today: Today) -> dict[str, Any]:
    institution_id = _own_institution(identity)
    doc = await handlers.load_offer(rt.store, institution_id)
    if doc is None:
        raise NotFound("本机构尚未发布招生信息（开设岗位与收费）", code="institution_not_found")
    suspension = (await suspended_enrollment(rt.db, today, [institution_id])).get(institution_id)
    return {**handlers.offer_view(doc), "suspension": suspension}


@router.put(
    "/institutions/me/offer", response_model=PublishResponse, summary="发布本机构的招生信息（整体替换）"
)
async def publish_my_offer(
    body: OfferRequest, identity: InstitutionAccount, rt: RuntimeDep
) -> PublishResponse:
    institution_id = _own_institution(identity)
    published = await handlers.publish_offer(rt.store, institution_id=institution_id, form=body.form())
    return PublishResponse(institution_id=institution_id, changed=published.changed, offer=published.offer)


@router.put(
    "/institutions/{institution_id}/offer",
    response_model=PublishResponse,
    summary="管理员为某培训机构发布招生信息（整体替换）",
)
async def publish_offer(
    institution_id: str, body: AdminOfferRequest, _: Admin, rt: RuntimeDep
) -> PublishResponse:
    published = await handlers.publish_offer(
        rt.store, institution_id=institution_id, form=body.form(), demo=body.demo
    )
    return PublishResponse(institution_id=institution_id, changed=published.changed, offer=published.offer)


@router.get(
    "/institutions/{institution_id}",
    summary="一家培训机构的招生信息（暂停招生期间 suspension 写明期间与原因，不能向其新报名）",
)
async def get_institution(institution_id: str, _: AnyRole, rt: RuntimeDep, today: Today) -> dict[str, Any]:
    view = await handlers.get_institution(rt.db, institution_id)
    suspension = (await suspended_enrollment(rt.db, today, [institution_id])).get(institution_id)
    return {**view, "suspension": suspension}
