# The B12 Cramp Helper Telegram bot. Build: docker build -t b12-cramp-helper .
# Run:   docker run --env-file .env -v b12-data:/app/data b12-cramp-helper
# Same install and start as `make run`: the project's pinned dependencies from
# pyproject.toml, then `python -m bot serve` (what `make run` does once a token is set).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Code and its pinned dependencies (pyproject.toml pins every one with ==).
COPY pyproject.toml README.md ./
COPY bot/ bot/
# `python -m bot` runs /app/bot; its bytecode is made here, since PYTHONDONTWRITEBYTECODE
# would otherwise have every start compile the modules again (~0.2 s).
RUN pip install .
RUN python -m compileall -q bot

# The content store is data the bot reads at start-up; it is not part of the wheel.
COPY content/ content/

# Train the intent model and the safety layer's second opinion once, at build time: the bot
# finds them in the cache and starts in about a second (`content check` loads the engine).
ENV MODEL_CACHE_DIR=/app/models
RUN python -m bot content check

# Run as an unprivileged user that owns only the database folder.
RUN useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin bot \
    && mkdir -p /app/data \
    && chown bot:bot /app/data
USER bot

ENV DATABASE_PATH=/app/data/bot.sqlite3 \
    MODE=polling \
    WEBHOOK_LISTEN=0.0.0.0 \
    WEBHOOK_PORT=8080
VOLUME ["/app/data"]
EXPOSE 8080

# Alive = a fresh heartbeat from the bot's event loop (and, in webhook mode, GET /healthz).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.telegram.health"]

# SIGTERM (docker stop) finishes the updates in flight, closes the database and exits 0.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot", "serve"]
