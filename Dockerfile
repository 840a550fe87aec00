# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY helpdesk ./helpdesk
COPY accounts ./accounts
COPY tickets ./tickets
COPY routing ./routing
RUN pip install .
COPY . .
# collectstatic needs settings to load; the key is a build-time placeholder, never used to sign.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

RUN useradd --system --uid 1000 switchboard && mkdir -p /srv/media && chown switchboard /srv/media
USER switchboard
EXPOSE 8000
CMD ["gunicorn", "helpdesk.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
