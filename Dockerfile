# syntax=docker/dockerfile:1
# One image for the three processes of a Dagster deployment (deploy/compose.yaml, and the
# Helm chart of deploy/KUBERNETES.md); the command picks the process:
#   user code (default)  dagster code-server start -h 0.0.0.0 -p 4000 -m confluence_pipeline.definitions
#   webserver            dagster-webserver -h 0.0.0.0 -p 3000 -w /opt/dagster/dagster_home/workspace.yaml
#   daemon               dagster-daemon run -w /opt/dagster/dagster_home/workspace.yaml
#   MCP server           confluence-pipeline mcp --transport streamable-http --host 0.0.0.0
#                        (needs CONFLUENCE_PIPELINE_MCP_TOKEN; serves http://HOST:8002/mcp)
# Secrets (SECRET_KEY, LLAMA_CLOUD_API_KEY, DAGSTER_POSTGRES_PASSWORD, ...) come from the
# environment at run time; none is baked into the image.
#
# BASE_IMAGE: any Debian-like image with python3 (3.11) and its venv module; the tests build
# on a local debootstrap base. PIP_CONFIG_FILE (optional): a pip.conf for the install steps
# only, e.g. a mirror or a CA mounted with `podman build -v`; nothing of it stays in the image.
ARG BASE_IMAGE=python:3.11.14-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/dagster_home

RUN groupadd --system --gid 10001 dagster \
    && useradd --system --uid 10001 --gid dagster --home-dir /opt/dagster --create-home \
        --shell /usr/sbin/nologin dagster \
    && mkdir -p /opt/dagster/dagster_home/storage \
    && chown -R dagster:dagster /opt/dagster/dagster_home \
    && python3 -m venv /opt/venv

WORKDIR /opt/dagster/app

ARG PIP_CONFIG_FILE

# Dependencies first, pinned by the lock: this layer changes only with deploy/requirements.txt.
COPY deploy/requirements.txt deploy/requirements.txt
RUN pip install --no-cache-dir --requirement deploy/requirements.txt

# The package itself, from this repository, without re-resolving its dependencies; pip check
# fails the build if the lock misses one. .dockerignore keeps the emulators (sandbox) out.
COPY pyproject.toml setup.cfg README.md ./
COPY confluence_pipeline ./confluence_pipeline
RUN pip install --no-cache-dir --no-deps . \
    && pip check \
    && rm -rf build ./*.egg-info

COPY deploy/dagster.yaml deploy/workspace.yaml /opt/dagster/dagster_home/

USER 10001:10001
EXPOSE 3000 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "confluence_pipeline.definitions"]
