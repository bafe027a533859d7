"""Getting past updates python-telegram-bot cannot parse, instead of being stuck on them.

PTB 22.8 parses a getUpdates batch in one go (`Update.de_list` in `Bot.get_updates`). One
update it cannot parse — a message without `date`, a field of the wrong type — makes the whole
call raise; the Updater logs the raw batch (users' messages included) at CRITICAL and polls
again with the same offset. That batch, and every update after it, is then retried forever:
the bot falls silent for everyone.

`UpdatesRequest` is the request object PTB uses for getUpdates only
(`ApplicationBuilder.get_updates_request`). It parses each update of a batch on its own before
the Bot sees the batch. One that does not parse is logged once, as a WARNING with its
update_id and never its content, and replaced by a bare `{"update_id": N}`: PTB turns that into
an empty Update, which the handlers' gate drops (it carries nothing addressed to us), and the
offset moves past it. The rest of the batch is processed as usual. An item without an integer
update_id cannot be confirmed or handled at all and is left out (Telegram never sends one).

The webhook server (`bot.telegram.webhook`) applies the same rule to a POSTed update through
`parse_update`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from telegram import Bot, Update
from telegram.request import BaseRequest, HTTPXRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import JSONDict, ODVInput

log = logging.getLogger(__name__)

GET_UPDATES = "getUpdates"


def update_id_of(data: object) -> int | None:
    """The update's integer update_id, or None when `data` has none (PTB's Updater adds 1 to
    it to confirm the update, so anything but an int would break polling itself)."""
    if isinstance(data, dict):
        value = data.get("update_id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def parse_problem(data: dict[str, Any], bot: Bot | None = None) -> str | None:
    """Why PTB cannot parse `data` as an Update — the exception's type name only, since its
    message may quote the user's content — or None when it can. PTB raises whatever the
    data provokes (KeyError, TypeError, AttributeError, OverflowError, …), hence the broad
    except. Parsing without a bot is parsing with one: the bot only lends defaults."""
    try:
        Update.de_json(data, bot)
    except Exception as error:
        return type(error).__name__
    return None


class SkipLog:
    """Logs each unparsable update once, even when its batch is fetched again (update ids only
    grow, so remembering the highest one reported is enough)."""

    def __init__(self) -> None:
        self._highest: int | None = None
        self._reported_missing_id = False

    def unparsable(self, update_id: int, problem: str) -> None:
        if self._highest is not None and update_id <= self._highest:
            return
        self._highest = update_id
        log.warning(
            "update %d skipped: python-telegram-bot cannot parse it (%s)", update_id, problem
        )

    def missing_id(self) -> None:
        if not self._reported_missing_id:
            self._reported_missing_id = True
            log.warning("an update without an integer update_id was left out")


def sanitise_batch(batch: list[Any], skips: SkipLog) -> list[Any]:
    """`batch` with every update PTB cannot parse replaced by a bare `{"update_id": N}` and
    items without an update_id left out; updates that parse are passed on untouched."""
    kept: list[Any] = []
    for item in batch:
        update_id = update_id_of(item)
        if update_id is None:
            skips.missing_id()
            continue
        problem = parse_problem(item)
        if problem is None:
            kept.append(item)
        else:
            skips.unparsable(update_id, problem)
            kept.append({"update_id": update_id})
    return kept


class UpdatesRequest(HTTPXRequest):
    """The getUpdates request, with PTB's own settings for it, whose result never holds an
    update PTB cannot parse (see the module docstring)."""

    def __init__(self) -> None:
        # What ApplicationBuilder builds for getUpdates when nothing is configured: one
        # connection (there is only ever one long poll), HTTP/1.1, HTTPXRequest's timeouts.
        super().__init__(connection_pool_size=1, http_version="1.1")
        self._skips = SkipLog()

    async def post(
        self,
        url: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> JSONDict | list[JSONDict] | bool:
        result = await super().post(
            url,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if url.rsplit("/", 1)[-1] != GET_UPDATES or not isinstance(result, list):
            return result
        return sanitise_batch(result, self._skips)


def parse_update(data: object, bot: Bot, skips: SkipLog) -> Update | None:
    """A webhook POST's update, or None when PTB cannot parse it: then it is skipped, and
    logged once by update id (via `skips`), like a polled one. Raises ValueError when `data`
    is not an update at all (no integer update_id): that did not come from Telegram."""
    update_id = update_id_of(data)
    if update_id is None or not isinstance(data, dict):
        raise ValueError("not an update: no integer update_id")
    try:
        return Update.de_json(data, bot)
    except Exception as error:  # whatever the data provokes; see parse_problem
        skips.unparsable(update_id, type(error).__name__)
        return None
