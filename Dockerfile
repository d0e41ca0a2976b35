# Clinic Portal: production image. gunicorn serves the app; migrations run at start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORTAL_ENV=production \
    WEB_CONCURRENCY=4

WORKDIR /app

# Every package pinned with its hash (requirements.lock, written by `make lock`).
COPY requirements.lock .
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY . .
RUN pybabel compile -d translations \
    && useradd --create-home --uid 10001 portal \
    && mkdir -p instance \
    && chown -R portal:portal instance

USER portal
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"

CMD ["sh", "-c", "flask --app wsgi db upgrade && exec gunicorn --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY} --access-logfile - wsgi:app"]
