# syntax=docker/dockerfile:1.7
# One image for every Casestream process; the Kubernetes Deployment picks the entry
# point by command: casestream-intake | casestream-escalation | casestream-billing |
# casestream-notify | casectl auditor run.
#
#   docker build -t casestream:dev .

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------- builder: wheels only
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
# Third-party dependencies first (cached layer while only our code changes).
COPY requirements.lock ./
RUN pip wheel --wheel-dir /wheels -r requirements.lock
# Our packages: the shared package, every service, and casectl.
COPY packages/ packages/
COPY services/ services/
COPY tools/ tools/
RUN set -eu; \
    for d in packages/* services/* tools/casectl; do \
      if [ -f "$d/pyproject.toml" ]; then pip wheel --no-deps --no-build-isolation --wheel-dir /wheels/local "$d" \
        || pip wheel --no-deps --wheel-dir /wheels/local "$d"; fi; \
    done; \
    ls /wheels/local

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/casestream PATH=/opt/casestream/bin:$PATH \
    CASESTREAM_RUN_DIR=/var/lib/casestream CASESTREAM_GRPC_HOST=0.0.0.0
RUN groupadd --system --gid 10001 casestream \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/casestream --shell /usr/sbin/nologin casestream \
 && install -d -o 10001 -g 10001 /var/lib/casestream
COPY requirements.lock /tmp/requirements.lock
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    python -m venv /opt/casestream \
 && pip install --no-index --find-links /wheels -r /tmp/requirements.lock \
 && pip install --no-index --find-links /wheels --find-links /wheels/local --no-deps /wheels/local/*.whl \
 && pip check \
 && rm /tmp/requirements.lock
USER 10001:10001
WORKDIR /var/lib/casestream
# gRPC 50051-50054 (one per service), Prometheus metrics 9101-9105.
EXPOSE 50051 50052 50053 50054 9101 9102 9103 9104 9105
# Exec form, no shell: SIGTERM reaches the Python process directly and drains it.
STOPSIGNAL SIGTERM
CMD ["casestream-intake"]
