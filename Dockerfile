# config-report: the weekly AWS Config compliance report, run by the Helm chart's CronJob.
#
#   docker build -t config-report:0.1.0 \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg SOURCE="$(git remote get-url origin)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .
#
# For a reproducible build pin the base image by digest:
#   --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<digest>
ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: the only stage with pip, setuptools and network access ---
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Dependencies first, from the hashed lock file only, so this layer is cached across source changes.
# Wheels only: the final image never needs a compiler, and neither does this one.
# The venv has no pip of its own: the base image's pip installs into it, so pip never ships.
COPY requirements.lock /build/requirements.lock
RUN python -m venv --without-pip /opt/venv \
 && python -m pip --python /opt/venv/bin/python install --no-cache-dir --require-hashes --only-binary=:all: \
        --requirement /build/requirements.lock

# The project as a wheel, installed without dependencies: everything it needs came from the lock file.
# (pip fetches the build backend, setuptools, into a throwaway build environment; it never reaches /opt/venv.)
COPY pyproject.toml README.md /build/src/
COPY src /build/src/src
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /build/wheels /build/src \
 && python -m pip --python /opt/venv/bin/python install --no-cache-dir --no-deps --no-index /build/wheels/*.whl

# --- runtime: the base image plus the venv, nothing else ---
FROM ${PYTHON_IMAGE}

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="config-report" \
      org.opencontainers.image.description="Weekly AWS Config compliance report for every account of an AWS Organization" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim"

COPY --from=builder /opt/venv /opt/venv

# Read-only root filesystem: the only writable place is /tmp (an emptyDir in the chart), so HOME and
# TMPDIR point there, and bytecode was compiled at install time instead of on first import.
ENV PATH="/opt/venv/bin:${PATH}" \
    HOME=/tmp \
    TMPDIR=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# Numeric, so Kubernetes can verify runAsNonRoot without a passwd lookup.
USER 10001:10001
WORKDIR /tmp

ENTRYPOINT ["config-report"]
CMD ["run"]
