# The deploybot image (receiver, workers, scheduler, the switch's keeper). BASE_IMAGE lets a
# machine without Docker Hub build from the base made here (docker-compose.offline.yml).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
# git fetches the commits under test; bubblewrap is the stage sandbox; haproxy is for
# `deploybot proxy` without --attach (and `deploybot doctor`).
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates git bubblewrap \
        haproxy \
    && rm -rf /var/lib/apt/lists/*
# pip trusts the system's certificate store (a proxy's CA installed in the base included), for
# this build and for the wheelhouse a release fills.
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/deploybot/bin:$PATH
RUN useradd --create-home --uid 10001 deploybot
WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY core core
COPY bot bot
COPY workers workers
COPY deploy deploy
COPY deploybot deploybot
COPY tutor tutor
COPY data data
# A virtualenv of its own: Debian's python3 (the offline base) refuses installs beside its own.
# The data directory belongs to the web's user: the web writes its metrics there beside the
# worker's (the worker and the switch run as root), and HAProxy (as this uid) makes its sockets
# in haproxy/. A new named volume takes this ownership.
RUN python3 -m venv /opt/deploybot && /opt/deploybot/bin/pip install --no-cache-dir . \
    && chown -R deploybot /app \
    && install -d -o deploybot /var/lib/deploybot /var/lib/deploybot/metrics \
        /var/lib/deploybot/haproxy
USER deploybot
ENV DEPLOYBOT_DATA_DIR=/var/lib/deploybot
CMD ["deploybot", "serve", "--host", "127.0.0.1", "--port", "8000"]
