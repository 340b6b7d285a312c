# Image of the .venv side: backend (uvicorn backend.main:app), ivr (uvicorn
# ivr.main:app), the notificaciones worker and the migrations Job.
# Build from the repository root:
#   docker build -f deploy/docker/app.Dockerfile -t REGISTRO/capp-app:TAG .
# (deploy/docker/app.Dockerfile.dockerignore keeps .venv, var/, .env and models out.)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first: this layer is reused while requirements/app.txt is unchanged.
COPY requirements/app.txt requirements/app.txt
RUN pip install -r requirements/app.txt

COPY . .

# Unprivileged user; var/ (IVR call log, local files) is an emptyDir in Kubernetes.
RUN useradd --uid 10001 --no-create-home --home-dir /tmp capp \
    && mkdir -p /app/var && chown 10001:10001 /app/var
USER 10001

EXPOSE 8000 8001
CMD ["uvicorn", "backend.main:app", "--host", "0.0.0.0", "--port", "8000"]
