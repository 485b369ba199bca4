# The Python jobs image of the compiled training Jobs (training/<model>/job.yaml) and dbt Jobs
# (dbt/jobs.yaml): Python with the pinned packages of docker/training-requirements.txt (the versions
# src/targets/training/training.ts compiles against; test/targets/dockerfiles.test.ts keeps the two
# equal), installed at build time so a Job never runs `pip install`. Built from the repository root:
#   docker build -f docker/training.Dockerfile -t ghcr.io/asgard-data/asgard-training:0.1.0 .
FROM python:3.11-slim-bookworm
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
COPY docker/training-requirements.txt /opt/asgard/requirements.txt
RUN pip install --no-cache-dir -r /opt/asgard/requirements.txt
RUN useradd --create-home --uid 1000 trainer
USER trainer
WORKDIR /tmp
