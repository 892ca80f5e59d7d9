"""HTTP API of online payment: start (enterprise), the provider's callback, and the sandbox cashier.

The callback and the cashier are public, as at a real provider: the callback is trusted only through its
signature; the cashier needs nothing but the (unguessable) payment id and pays only a started, unpaid payment.
"""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from servicekit.app import RuntimeDep
from servicekit.auth import Identity, Role, require_roles
from servicekit.errors import Conflict, NotFound
from servicekit.idempotency import IdempotencyDep
from servicekit.runtime import ServiceRuntime

from ..adapters.provider import SandboxProvider, SandboxSettings
from ..application import online
from ..domain.order import Order, Status

router = APIRouter(prefix="/api/payment", tags=["在线支付"])

Enterprise = Annotated[Identity, Depends(require_roles(Role.ENTERPRISE))]


def attach_provider(app: FastAPI, runtime: ServiceRuntime) -> SandboxProvider:
    """Create the process's sandbox provider now (checks PAYMENT_SANDBOX_SECRET at start)."""
    provider = SandboxProvider(runtime.db, SandboxSettings())
    app.state.payment_provider = provider
    return provider


def get_provider(request: Request) -> SandboxProvider:
    provider: SandboxProvider | None = getattr(request.app.state, "payment_provider", None)
    if provider is None:  # not attached at start: created on first use, once per process
        provider = attach_provider(request.app, request.app.state.runtime)
    return provider


ProviderDep = Annotated[SandboxProvider, Depends(get_provider)]


class StartOnline(BaseModel):
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


@router.post("/online/callback/sandbox", summary="支付结果异步通知（沙箱支付渠道，签名校验）")
async def sandbox_callback(request: Request, rt: RuntimeDep, provider: ProviderDep) -> dict[str, str]:
    outcome = await online.handle_callback(rt.store, provider, await request.body(), request.headers)
    return {"result": "success", "outcome": outcome.value}


# -- the sandbox provider's own pages ------------------------------------------------------------------------


async def _payable_order(rt: ServiceRuntime, payment_id: str) -> Order:
    order_id = await online.order_of_payment(rt.store, payment_id)
    if order_id is None:
        raise NotFound("支付单不存在", code="payment_not_found")
    history, _ = await rt.store.load_events(online.stream_id(order_id))
    return Order.from_history(history)


def _page(title: str, content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1>{content}<p><small>沙箱支付渠道（仅用于测试，不产生真实扣款）</small></p>"
        "</body></html>",
        status_code=status,
    )


@router.get("/sandbox/cashier/{payment_id}", summary="沙箱收银台页面", response_class=HTMLResponse)
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
        f"<form method='post' action='/api/payment/sandbox/cashier/{pid}/pay'>"
        "<button type='submit'>支付</button></form>"
        f"<form method='post' action='/api/payment/sandbox/cashier/{pid}/cancel'>"
        "<button type='submit'>取消</button></form>"
    )
    return _page("沙箱收银台", info + forms)


@router.post(
    "/sandbox/cashier/{payment_id}/pay", summary="沙箱收银台：模拟付款人支付", response_class=HTMLResponse
)
async def cashier_pay(payment_id: str, rt: RuntimeDep, provider: ProviderDep) -> HTMLResponse:
    order = await _payable_order(rt, payment_id)
    if order.status is not Status.UNPAID:
        raise Conflict("该订单已不是待缴费状态，不能支付", code="order_not_payable")
    doc = await provider.pay(payment_id)
    back = html.escape(doc.get("return_url") or "/", quote=True)
    return _page("支付成功", f"<p>支付结果正在通知商户，请稍候。</p><p><a href='{back}'>返回商户</a></p>")


@router.post(
    "/sandbox/cashier/{payment_id}/cancel", summary="沙箱收银台：付款人取消支付", response_class=HTMLResponse
)
async def cashier_cancel(payment_id: str, provider: ProviderDep) -> HTMLResponse:
    doc = await provider.close(payment_id)
    back = html.escape(doc.get("return_url") or "/", quote=True)
    return _page("已取消支付", f"<p>订单仍为待缴费，可重新发起支付。</p><p><a href='{back}'>返回商户</a></p>")


@router.get("/sandbox/payments/{payment_id}", summary="沙箱支付单与通知记录（调试用，相当于渠道商户后台）")
async def sandbox_payment(payment_id: str, provider: ProviderDep) -> dict[str, Any]:
    doc = await provider.find(payment_id)
    return {
        "payment_id": doc["_id"],
        "order_number": doc["order_number"],
        "amount_fen": doc["amount_fen"],
        "status": doc["status"],
        "notifications": doc.get("notifications", []),
    }
