"""HTTP API of online payment: start (enterprise), the provider's callback, and the sandbox cashier.

Online payment needs a provider: without one (the sandbox is off unless PAYMENT_SANDBOX=1, and refused with
PLATFORM_ENV=production) starting a payment answers 503 and the sandbox's routes (`sandbox_router`) are not
mounted. The callback is public, as at a real provider, and trusted only through its signature (HMAC with a
timestamp, a secret only the provider holds). The sandbox's cashier pays or cancels only for the order's
payer, signed in (the enterprise that owns the order); its payment records are shown to the payer and the
administrator only. The contract a real provider's adapter keeps is in docs/payments.md.
"""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.errors import Conflict, DomainError, NotFound
from servicekit.idempotency import IdempotencyDep
from servicekit.paging import BoundedModel
from servicekit.runtime import ServiceRuntime

from ..adapters.provider import SandboxProvider, SandboxSettings
from ..application import online
from ..domain.order import Order, Status

router = APIRouter(prefix="/api/payment", tags=["在线支付"])
sandbox_router = APIRouter(prefix="/api/payment", tags=["在线支付（沙箱渠道，仅开发环境）"])

Enterprise = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE))]
PayerOrAdmin = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE, Role.ADMIN))]


def attach_provider(app: FastAPI, runtime: ServiceRuntime) -> SandboxProvider:
    """Create the process's sandbox provider now (checks PAYMENT_SANDBOX_SECRET at start). Called only when
    PAYMENT_SANDBOX is on (`main.build_app`)."""
    provider = SandboxProvider(runtime.db, SandboxSettings())
    app.state.payment_provider = provider
    return provider


def get_provider(request: Request) -> SandboxProvider:
    provider: SandboxProvider | None = getattr(request.app.state, "payment_provider", None)
    if provider is None:  # never created on demand: no provider configured, no online payment
        raise DomainError(
            "在线支付暂未开通：平台未配置支付渠道，请线下转账并上传缴费凭证",
            code="online_payment_unavailable",
            status=503,
        )
    return provider


ProviderDep = Annotated[SandboxProvider, Depends(get_provider)]


class StartOnline(BoundedModel):
    return_url: str = Field(
        default="/", max_length=500, pattern=r"^/([^/\s\\][^\s]*)?$", description="支付完成后返回的站内路径"
    )


class OnlineStarted(BaseModel):
    payment_id: str
    redirect_url: str


@router.post(
    "/orders/{order_id}/pay-online",
    summary="在线支付：创建支付单并返回收银台地址（企业）",
    response_model=OnlineStarted,
)
async def pay_online(
    order_id: str,
    identity: Enterprise,
    rt: RuntimeDep,
    provider: ProviderDep,
    idem: IdempotencyDep,
    body: StartOnline | None = None,
) -> OnlineStarted:
    start = body or StartOnline()

    async def work() -> OnlineStarted:
        payment = await online.start_online_payment(
            rt.store,
            provider,
            order_id,
            identity.org_id or "",
            provider.settings.notify_base,
            return_url=start.return_url,
        )
        return OnlineStarted(payment_id=payment.payment_id, redirect_url=payment.redirect_url)

    return await idem.run(start, work, load=OnlineStarted.model_validate)


@sandbox_router.post("/online/callback/sandbox", summary="支付结果异步通知（沙箱支付渠道，签名校验）")
async def sandbox_callback(request: Request, rt: RuntimeDep, provider: ProviderDep) -> dict[str, str]:
    outcome = await online.handle_callback(rt.store, provider, await request.body(), request.headers)
    return {"result": "success", "outcome": outcome.value}


# -- the sandbox provider's own pages ------------------------------------------------------------------------


async def _payers_order(rt: ServiceRuntime, payment_id: str, identity: Identity) -> Order:
    """The order of a sandbox payment, for its payer (the enterprise that owns the order) or the
    administrator; 404 for anyone else (as for an unknown payment)."""
    order_id = await online.order_of_payment(rt.store, payment_id)
    if order_id is None:
        raise NotFound("支付单不存在", code="payment_not_found")
    history, _ = await rt.store.load_events(online.stream_id(order_id))
    order = Order.from_history(history)
    if identity.role is not Role.ADMIN and (not identity.org_id or order.enterprise_id != identity.org_id):
        raise NotFound("支付单不存在", code="payment_not_found")
    return order


def _page(title: str, content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1>{content}<p><small>沙箱支付渠道（仅用于测试，不产生真实扣款）</small></p>"
        "</body></html>",
        status_code=status,
    )


@sandbox_router.get("/sandbox/cashier/{payment_id}", summary="沙箱收银台页面", response_class=HTMLResponse)
async def cashier(payment_id: str, provider: ProviderDep) -> HTMLResponse:
    doc = await provider.find(payment_id)
    amount = f"{doc['amount_fen'] / 100:.2f}"
    pid = html.escape(payment_id)
    info = (
        f"<p>订单号：{html.escape(doc['order_number'])}</p><p>支付金额：<strong>{amount}</strong> 元</p>"
        f"<p>支付单号：{pid}</p>"
    )
    if doc["status"] != "created":
        label = {"paid": "该支付单已支付", "closed": "该支付单已取消"}.get(doc["status"], doc["status"])
        return _page("沙箱收银台", info + f"<p>{html.escape(label)}</p>")
    forms = (
        "<p>支付与取消须以付款企业账号登录（请求带 Authorization: Bearer 令牌）。</p>"
        f"<form method='post' action='/api/payment/sandbox/cashier/{pid}/pay'>"
        "<button type='submit'>支付</button></form>"
        f"<form method='post' action='/api/payment/sandbox/cashier/{pid}/cancel'>"
        "<button type='submit'>取消</button></form>"
    )
    return _page("沙箱收银台", info + forms)


@sandbox_router.post(
    "/sandbox/cashier/{payment_id}/pay",
    summary="沙箱收银台：付款企业（已登录）模拟支付",
    response_class=HTMLResponse,
)
async def cashier_pay(
    payment_id: str, identity: Enterprise, rt: RuntimeDep, provider: ProviderDep
) -> HTMLResponse:
    order = await _payers_order(rt, payment_id, identity)
    if order.status is not Status.UNPAID:
        raise Conflict("该订单已不是待缴费状态，不能支付", code="order_not_payable")
    doc = await provider.pay(payment_id)
    back = html.escape(doc.get("return_url") or "/", quote=True)
    return _page("支付成功", f"<p>支付结果正在通知商户，请稍候。</p><p><a href='{back}'>返回商户</a></p>")


@sandbox_router.post(
    "/sandbox/cashier/{payment_id}/cancel",
    summary="沙箱收银台：付款企业（已登录）取消支付",
    response_class=HTMLResponse,
)
async def cashier_cancel(
    payment_id: str, identity: Enterprise, rt: RuntimeDep, provider: ProviderDep
) -> HTMLResponse:
    await _payers_order(rt, payment_id, identity)
    doc = await provider.close(payment_id)
    back = html.escape(doc.get("return_url") or "/", quote=True)
    return _page("已取消支付", f"<p>订单仍为待缴费，可重新发起支付。</p><p><a href='{back}'>返回商户</a></p>")


@sandbox_router.get(
    "/sandbox/payments/{payment_id}",
    summary="沙箱支付单与通知记录（调试用，相当于渠道商户后台；付款企业、管理员）",
)
async def sandbox_payment(
    payment_id: str, identity: PayerOrAdmin, rt: RuntimeDep, provider: ProviderDep
) -> dict[str, Any]:
    await _payers_order(rt, payment_id, identity)
    doc = await provider.find(payment_id)
    return {
        "payment_id": doc["_id"],
        "order_number": doc["order_number"],
        "amount_fen": doc["amount_fen"],
        "status": doc["status"],
        "notifications": doc.get("notifications", []),
    }
