"""The WSGI entry point: gunicorn wsgi:app, flask --app wsgi, celery -A wsgi:celery_app."""

from portal import create_app

app = create_app()
# The Celery application: celery -A wsgi:celery_app worker --beat
celery_app = app.extensions["celery"]
