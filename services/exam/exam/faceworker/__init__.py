"""The face worker: a stateless process that answers FaceCheckRequested with FaceChecked.

Entry point `python -m exam.faceworker`; `analysis` is the check itself (pure), `worker` the Kafka loop.
"""
