# Image of the .venv-rasa side: Rasa (`rasa run`, model baked in), the action
# server (`rasa run actions`) and the tracker retention CronJob.
# The model is part of the image: train it first, then build from the repository root:
#   scripts/train.sh        # writes bot/models/capp.tar.gz
#   docker build -f deploy/docker/rasa.Dockerfile -t REGISTRO/capp-rasa:TAG .
# The build fails if bot/models/capp.tar.gz is missing (COPY of a missing file).
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app

COPY requirements/rasa.txt requirements/rasa.txt
RUN pip install -r requirements/rasa.txt

COPY . .
# Explicit, so that a build without a trained model fails here and not at run time.
COPY bot/models/capp.tar.gz bot/models/capp.tar.gz

RUN useradd --uid 10001 --no-create-home --home-dir /tmp capp
USER 10001

# Rasa and the action server run from /app, the repository root (config.yml,
# domain.yml; bot.channels.*, bot.actions, rasa_sdk_plugins are imported from there).
EXPOSE 5005 5055
# The Procfile's launcher: the HTTP API only with RASA_ADMIN_TOKEN (it refuses to start without).
CMD ["/app/scripts/rasa.sh"]
