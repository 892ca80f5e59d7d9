"""How a process reaches a secured Kafka (deploy/k8s: TLS and a SCRAM login per process) and the local one."""

from __future__ import annotations

import ssl

import pytest
from pydantic import SecretStr
from servicekit.kafka import connection_options, create_consumer, create_producer
from servicekit.settings import ServiceSettings


def test_the_local_stack_needs_no_login() -> None:
    settings = ServiceSettings(kafka_bootstrap_servers="127.0.0.1:9092")
    assert connection_options(settings) == {"bootstrap_servers": "127.0.0.1:9092"}


def test_a_secured_kafka_gets_tls_and_the_process_login() -> None:
    settings = ServiceSettings(
        kafka_bootstrap_servers="platform-kafka-bootstrap:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="exam",
        kafka_sasl_password=SecretStr("s3cret"),
    )
    options = connection_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("exam", "s3cret")
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED


async def test_every_client_uses_the_same_connection() -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="gateway",
        kafka_sasl_password=SecretStr("x"),
    )
    producer = create_producer(settings)
    consumer = create_consumer(settings, "exam.events", group_id="g")
    assert producer.client._security_protocol == "SASL_PLAINTEXT"
    assert producer.client._sasl_plain_username == "gateway"
    assert consumer._client._security_protocol == "SASL_PLAINTEXT"
    assert consumer._client._sasl_plain_username == "gateway"


def test_a_login_protocol_without_a_user_is_refused() -> None:
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME"):
        connection_options(ServiceSettings(kafka_security_protocol="SASL_SSL"))
