"""The pipeline's Prometheus metrics: what an operator needs to see that events flow (and where they do not).

- `outbox_backlog`, `outbox_oldest_unpublished_age_seconds`: integration events stored but not yet published;
- `store_subscription_lag`: own events a projection of the service has not applied yet;
- `consumer_lag` (per group, topic, partition), `consumer_last_progress_timestamp_seconds`: Kafka consumers;
- `consumer_events_handled_total`, `consumer_retries_total`, `consumer_dead_letters_total`.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

OUTBOX_BACKLOG = Gauge("outbox_backlog", "Integration events stored but not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_unpublished_age_seconds",
    "Age of the oldest event not yet published (0 when none)",
    ["service"],
)
SUBSCRIPTION_LAG = Gauge(
    "store_subscription_lag",
    "Own events (store positions) a projection or policy of the service has not applied yet",
    ["service", "subscription"],
)
CONSUMER_LAG = Gauge(
    "consumer_lag",
    "Records after the consumer's position (high watermark − position)",
    ["service", "group", "topic", "partition"],
)
CONSUMER_LAST_PROGRESS = Gauge(
    "consumer_last_progress_timestamp_seconds",
    "When the consumer last applied or skipped a record (Unix time)",
    ["service", "group"],
)
CONSUMER_HANDLED = Counter(
    "consumer_events_handled_total", "Events applied by handlers", ["service", "group"]
)
CONSUMER_RETRIES = Counter(
    "consumer_retries_total", "Handler attempts that failed and were retried", ["service", "group"]
)
CONSUMER_DEAD_LETTERS = Counter(
    "consumer_dead_letters_total", "Events given up on after bounded retries", ["service", "group", "topic"]
)
