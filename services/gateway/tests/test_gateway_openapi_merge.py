"""Merging the services' OpenAPI documents into the gateway's."""

from __future__ import annotations

from typing import Any

from gateway.application.openapi import OpenAPIAggregator, merge_openapi

PROBLEM_A = {"type": "object", "properties": {"code": {"type": "string"}}}
PROBLEM_B = {"type": "object", "properties": {"code": {"type": "string"}, "status": {"type": "integer"}}}
VALIDATION = {"type": "object", "properties": {"msg": {"type": "string"}}}


def gateway_doc() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "网关", "version": "0.1.0"},
        "paths": {
            "/healthz": {"get": {"operationId": "healthz_healthz_get", "responses": {}}},
            "/api/gateway/auth/login": {
                "post": {
                    "operationId": "login",
                    "responses": {
                        "401": {
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                            }
                        }
                    },
                }
            },
        },
        "components": {"schemas": {"Problem": PROBLEM_A, "ValidationError": VALIDATION}},
    }


def service_doc() -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Problem"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "registration", "version": "0.1.0"},
        "paths": {
            "/healthz": {"get": {"operationId": "healthz_healthz_get", "responses": {}}},
            "/api/registration/enterprises": {
                "post": {
                    "operationId": "register",
                    "responses": {
                        "409": {"content": {"application/json": {"schema": ref}}},
                        "422": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ValidationError"}
                                }
                            }
                        },
                    },
                },
                "parameters": [],
            },
            "/api/registration/enterprises/{id}": {
                "get": {
                    "operationId": "login",
                    "tags": ["企业注册"],
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Enterprise"}}
                            }
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Problem": PROBLEM_B,  # clashes with the gateway's (different)
                "ValidationError": VALIDATION,  # identical: shared
                "Enterprise": {"type": "object", "properties": {"error": ref}},
            }
        },
        "tags": [{"name": "企业注册"}],
    }


def test_clashing_component_is_prefixed_and_refs_rewritten() -> None:
    merged = merge_openapi(gateway_doc(), {"registration": service_doc()}, ["exam"])
    schemas = merged["components"]["schemas"]
    assert schemas["Problem"] == PROBLEM_A
    assert schemas["registration_Problem"] == PROBLEM_B
    assert schemas["ValidationError"] == VALIDATION and "registration_ValidationError" not in schemas
    assert schemas["Enterprise"]["properties"]["error"] == {
        "$ref": "#/components/schemas/registration_Problem"
    }

    post = merged["paths"]["/api/registration/enterprises"]["post"]
    assert post["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/registration_Problem"
    }
    assert post["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    # the gateway's own document is untouched
    login = merged["paths"]["/api/gateway/auth/login"]["post"]
    assert login["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/Problem")


def test_paths_tags_operation_ids_and_availability() -> None:
    own = gateway_doc()
    merged = merge_openapi(own, {"registration": service_doc()}, ["exam", "payment"])
    # only routable paths are merged; the gateway's /healthz stays the gateway's
    assert set(merged["paths"]) == {
        "/healthz",
        "/api/gateway/auth/login",
        "/api/registration/enterprises",
        "/api/registration/enterprises/{id}",
    }
    assert merged["paths"]["/api/registration/enterprises"]["post"]["tags"] == ["registration"]
    get_one = merged["paths"]["/api/registration/enterprises/{id}"]["get"]
    assert get_one["operationId"] == "registration_login" and get_one["tags"] == ["企业注册"]
    assert merged["info"]["x-unavailable"] == ["exam", "payment"]
    assert merged["info"]["x-services"] == ["registration"]
    assert merged["tags"] == [{"name": "企业注册"}]
    assert "x-unavailable" not in own["info"]  # inputs are not modified


def test_identical_component_referring_to_a_renamed_one_is_renamed_too() -> None:
    own = {
        "paths": {},
        "components": {
            "schemas": {"Problem": PROBLEM_A, "Wrapper": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    service = {
        "paths": {
            "/api/exam/x": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Wrapper"}}
                            }
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {"Problem": PROBLEM_B, "Wrapper": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    merged = merge_openapi(own, {"exam": service})
    schemas = merged["components"]["schemas"]
    assert schemas["exam_Wrapper"] == {"$ref": "#/components/schemas/exam_Problem"}
    assert schemas["Wrapper"] == {"$ref": "#/components/schemas/Problem"}
    response = merged["paths"]["/api/exam/x"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/exam_Wrapper"}


async def test_aggregator_caches_and_lists_unavailable_services() -> None:
    calls: list[str] = []
    now = [0.0]

    async def fetch(service: str, base_url: str) -> dict[str, Any]:
        calls.append(service)
        if service == "exam":
            raise ConnectionError("down")
        return service_doc()

    aggregator = OpenAPIAggregator(
        gateway_doc,
        {"registration": "http://r", "exam": "http://e"},
        fetch,
        ttl_seconds=30,
        clock=lambda: now[0],
    )
    first = await aggregator.document()
    assert first["info"]["x-unavailable"] == ["exam"]
    assert "/api/registration/enterprises" in first["paths"]
    now[0] = 29.0
    assert await aggregator.document() is first and len(calls) == 2
    now[0] = 31.0
    await aggregator.document()
    assert len(calls) == 4
