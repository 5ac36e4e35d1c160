# The deploybot image (receiver, workers, scheduler). BASE_IMAGE lets an offline machine build
# from a locally made base instead of Docker Hub.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
# git fetches the commits under test; bubblewrap is the stage sandbox; haproxy is the traffic
# switch `deploybot proxy` runs.
RUN apt-get update && apt-get install -y --no-install-recommends git bubblewrap haproxy \
    && rm -rf /var/lib/apt/lists/*
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
# The data directory belongs to the web's user: the web writes its metrics there beside the
# worker's (the worker runs as root, for the sandbox). A new named volume takes this ownership.
RUN python3 -m pip install --no-cache-dir . && chown -R deploybot /app \
    && install -d -o deploybot /var/lib/deploybot /var/lib/deploybot/metrics
USER deploybot
ENV DEPLOYBOT_DATA_DIR=/var/lib/deploybot
CMD ["deploybot", "serve", "--host", "127.0.0.1", "--port", "8000"]
