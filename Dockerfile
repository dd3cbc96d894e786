# DispatchNode production image: gunicorn (web), Celery worker and beat all run from it.
# Build: docker compose build   (see docker-compose.yml and README.md "Production").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    VAR_DIR=/app/var \
    DEBUG=0

WORKDIR /app

RUN groupadd --system --gid 10001 dispatchnode \
    && useradd --system --uid 10001 --gid dispatchnode --home-dir /app \
        --shell /usr/sbin/nologin dispatchnode

# Dependencies first (from pyproject.toml), so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# The project itself, then static files with a throw-away key (nothing secret is read at build).
RUN pip install --no-deps . \
    && SECRET_KEY=build-only-collectstatic-key FIELD_ENCRYPTION_KEY=build-only \
        python manage.py collectstatic --noinput --verbosity 1 \
    && mkdir -p /app/var \
    && chown -R dispatchnode:dispatchnode /app/var

USER dispatchnode
EXPOSE 8000

# WEB_CONCURRENCY (gunicorn's own variable) sets the number of worker processes.
CMD ["gunicorn", "dispatchnode.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", "--threads", "4", "--timeout", "30", \
     "--access-logfile", "-", "--error-logfile", "-"]
