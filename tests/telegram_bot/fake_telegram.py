"""A fake Telegram Bot API server for end-to-end tests (aiohttp on 127.0.0.1, a free port).

The bot under test talks to it through python-telegram-bot's real HTTP stack, exactly as it
would talk to api.telegram.org: point TELEGRAM_API_BASE_URL at `fake.base_url`. The fake
implements the methods the bot calls, keeps the chat as a user would see it (messages,
their texts and keyboards, edits), records every call, and plays the users: tests enqueue
updates (`send_text`, `press`, …) that the bot receives through getUpdates long polling with
offsets. Like Telegram it refuses HTML it could not parse, messages over 4096 characters,
edits that change nothing and callback data over 64 bytes — so a bot bug shows up as a 400,
not as a pass. Faults can be injected to test error handling and shutdown: error answers
(403, 429 with retry_after, 5xx; `fail`), answers slower than the client waits (`stall`),
connections closed without an answer (`drop`) — each for N calls, optionally in one chat
only — and held responses (`hold`).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.content.html import html_problems

TOKEN = "123456789:TEST-token_for-the-fake-bot-api-0123456"  # noqa: S105 - fake
BOT_USER: dict[str, Any] = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "B12 Cramp Helper",
    "username": "B12TestBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}

# Parameters that Telegram takes as strings (python-telegram-bot sends them unencoded).
_STRING_PARAMS = {
    "text",
    "callback_query_id",
    "parse_mode",
    "url",
    "secret_token",
    "action",
    "language_code",
    "inline_message_id",
    "inline_query_id",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    ok: bool = True
    result: Any = None
    at: float = field(default_factory=time.perf_counter)  # when the request arrived


@dataclass
class Fault:
    """The next `times` calls of `method` (in `chat_id` only, if set) fail.

    kind "status": answered with HTTP `status` and `description` (and retry_after);
    "stall": answered only after `seconds` or once the client hung up, whichever is first —
    a time-out for the client; the request is carried out anyway when `deliver` (Telegram did
    it, the answer was lost), else not at all;
    "drop": the connection is closed without an answer, the request not carried out.
    """

    method: str
    status: int
    description: str
    times: int = 1
    chat_id: int | None = None
    retry_after: int | None = None
    kind: str = "status"
    seconds: float = 60.0
    deliver: bool = False


@dataclass
class Hold:
    """Responses to `method` wait until `release` is set (to test in-flight shutdown)."""

    method: str
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_text(markup: str) -> str:
    """What Telegram shows for an HTML message: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup))


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.bot = dict(BOT_USER)
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.history: dict[int, dict[str, Any]] = {}  # every update ever enqueued, by id
        self.again: list[dict[str, Any]] = []  # updates to deliver again
        self.confirmed_offset = 0
        self.last_update_id = 0
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.webhook: dict[str, Any] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.faults: list[Fault] = []
        self.holds: list[Hold] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(1)
        self._inline_ids = itertools.count(1)
        self.inline_answers: dict[str, dict[str, Any]] = {}  # inline query id → answer params
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0
        # Set by a bot whose updates commit after their replies (PostgreSQL): awaited once a
        # wait is over, so what the test reads next in the database is the update's result.
        self.settle: Callable[[], Awaitable[None]] | None = None
        # Set to push updates to a webhook instead of queueing them for getUpdates.
        self.deliver: Callable[[dict[str, Any]], Awaitable[None]] | None = None
        self.closers: list[Callable[[], Awaitable[None]]] = []  # run by stop()

    # -- server ---------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for close in self.closers:
            await close()
        self._closing = True
        await self._notify()  # end pending long polls now
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """Value for TELEGRAM_API_BASE_URL (python-telegram-bot appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params)
        self.calls.append(call)
        for hold in self.holds:
            if hold.method == method:
                hold.arrived.set()
                await hold.release.wait()
        fault = self._fault_for(method, params)
        if fault is not None and fault.kind == "drop":
            call.ok = False
            await self._notify()
            assert request.transport is not None
            request.transport.close()  # the client sees the server disconnect, no answer
            return web.Response(status=499)  # never reaches anyone
        if fault is not None and fault.kind == "stall":
            call.ok = False  # until it is carried out, if ever
            await _until_gone(request, fault.seconds)
            if not fault.deliver:
                await self._notify()
                return _error(fault.status, fault.description)  # too late: nobody listens
            call.ok = True
        elif fault is not None:
            call.ok = False
            await self._notify()
            parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
            return _error(fault.status, fault.description, parameters)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            call.ok = False
            await self._notify()
            return _error(404, "Not Found")
        try:
            result = await handler(params)
        except _ApiError as error:
            call.ok = False
            call.result = error.description
            await self._notify()
            return _error(error.status, error.description)
        call.result = result
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    def _fault_for(self, method: str, params: dict[str, Any]) -> Fault | None:
        for fault in self.faults:
            if fault.method != method or fault.times <= 0:
                continue
            if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                continue
            fault.times -= 1
            return fault
        return None

    # -- Bot API methods ------------------------------------------------------------------

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return self.bot

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        if offset:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if self.again:  # redelivered as if never confirmed (see `redeliver`)
            self.updates = self.again + self.updates
            self.again = []
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not self.updates and not self._closing and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        return self.updates[:limit]

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.updates)}  # fmt: skip

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands") or []
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = params.get("scope") or {"type": "default"}
        if scope.get("type") == "chat":
            chat_id = scope["chat_id"]
            if chat_id not in self.chats:
                raise _ApiError(400, "Bad Request: chat not found")
            self.commands[f"chat:{chat_id}"] = commands
        else:
            self.commands[scope["type"]] = commands
        return True

    async def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        self._chat(params.get("chat_id"))
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise _ApiError(400, "Bad Request: query is too old or query ID is invalid")
        return True

    async def _api_answerInlineQuery(self, params: dict[str, Any]) -> Any:
        query_id = params.get("inline_query_id")
        if not query_id or str(query_id) in self.inline_answers:
            raise _ApiError(400, "Bad Request: query is too old or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise _ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [r.get("id") for r in results]
        if len(set(ids)) != len(ids) or not all(1 <= len(str(i).encode()) <= 64 for i in ids):
            raise _ApiError(400, "Bad Request: RESULT_ID_INVALID")
        for result in results:
            if result.get("type") != "article" or not result.get("title"):
                raise _ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
            content = result.get("input_message_content") or {}
            self._checked_text({"text": content.get("message_text"), **content})
            self._checked_markup(result.get("reply_markup"))
        self.inline_answers[str(query_id)] = params
        return True

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params.get("chat_id"))
        text = self._checked_text(params)
        markup = self._checked_markup(params.get("reply_markup"))
        message_id = next(self._ids(chat["id"]))
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot,
            "text": visible_text(text),
        }
        if markup:
            message["reply_markup"] = markup
        reply = params.get("reply_parameters")
        if reply:
            original = self.messages.get((chat["id"], reply["message_id"]))
            if original is not None:
                message["reply_to_message"] = original
        self.messages[(chat["id"], message_id)] = {**message, "html": text}
        return message

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        stored = self._stored(params)
        text = self._checked_text(params)
        markup = self._checked_markup(params.get("reply_markup"))
        if stored.get("html") == text and stored.get("reply_markup") == markup:
            raise _ApiError(400, "Bad Request: message is not modified")
        stored["html"], stored["text"] = text, visible_text(text)
        if markup:
            stored["reply_markup"] = markup
        else:
            stored.pop("reply_markup", None)
        stored["edit_date"] = int(time.time())
        return _public(stored)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        stored = self._stored(params)
        markup = self._checked_markup(params.get("reply_markup"))
        if not markup and "reply_markup" not in stored:
            raise _ApiError(400, "Bad Request: message is not modified")
        if markup:
            stored["reply_markup"] = markup
        else:
            stored.pop("reply_markup", None)
        return _public(stored)

    # -- checks Telegram would make -------------------------------------------------------

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        if chat_id not in self.chats:
            raise _ApiError(400, "Bad Request: chat not found")
        return self.chats[chat_id]

    def _stored(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        stored = self.messages.get((chat["id"], params.get("message_id")))
        if stored is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return stored

    def _checked_text(self, params: dict[str, Any]) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if params.get("parse_mode") == "HTML":
            problems = html_problems(text)
            if problems:
                raise _ApiError(400, f"Bad Request: can't parse entities: {problems[0]}")
            shown = visible_text(text)
        else:
            shown = text
        if utf16_len(shown) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return text

    def _checked_markup(self, markup: Any) -> dict[str, Any] | None:
        if not markup:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise _ApiError(400, "Bad Request: text buttons are unallowed")
        return markup if markup.get("inline_keyboard") else None

    def _ids(self, chat_id: int) -> itertools.count[int]:
        return self._message_ids.setdefault(chat_id, itertools.count(1))

    # -- playing the users ----------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "Ann", language_code: str = "en") -> dict:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }

    def private_chat(self, user: dict[str, Any]) -> dict[str, Any]:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        self.chats[chat["id"]] = chat
        return chat

    def group_chat(self, chat_id: int, title: str = "Cramp club") -> dict[str, Any]:
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        self.chats[chat_id] = chat
        return chat

    async def enqueue(self, update: dict[str, Any]) -> int:
        """Make an update available: for getUpdates, or pushed to a webhook by `deliver`
        (tests/telegram_bot/replicas.py), which returns once the update was acknowledged."""
        update = {"update_id": next(self._update_ids), **update}
        self.last_update_id = update["update_id"]
        self.history[update["update_id"]] = update
        if self.deliver is not None:
            await self.deliver(update)
            return update["update_id"]
        self.updates.append(update)
        await self._notify()
        return update["update_id"]

    async def redeliver(self, update_id: int) -> None:
        """Deliver an update again, as Telegram does when a bot died before confirming it."""
        self.again.append(self.history[update_id])
        await self._notify()

    def _message(
        self,
        user: dict[str, Any],
        chat: dict[str, Any] | None,
        **content: Any,
    ) -> dict[str, Any]:
        chat = chat or self.private_chat(user)
        self.chats.setdefault(chat["id"], chat)
        message = {
            "message_id": next(self._ids(chat["id"])),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            **content,
        }
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    def text_message(
        self,
        user: dict[str, Any],
        text: str,
        *,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        entities = _entities(text)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if reply_to is not None:
            content["reply_to_message"] = _public(reply_to)
        return self._message(user, chat, **content)

    async def send_text(
        self,
        user: dict[str, Any],
        text: str,
        *,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The user types `text`; returns the message as Telegram delivers it."""
        message = self.text_message(user, text, chat=chat, reply_to=reply_to)
        await self.enqueue({"message": message})
        return message

    async def send_edit(self, message: dict[str, Any], text: str) -> None:
        edited = {**message, "text": text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        if _entities(text):
            edited["entities"] = _entities(text)
        await self.enqueue({"edited_message": edited})

    async def send_other(
        self, user: dict[str, Any], kind: str, *, chat: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A non-text message: sticker, photo, voice, document, location."""
        samples: dict[str, dict[str, Any]] = {
            "sticker": {
                "sticker": {
                    "file_id": "CAACAgIAAxkBAAEBsticker",
                    "file_unique_id": "AgADsticker",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                }
            },
            "photo": {
                "photo": [{"file_id": "photo1", "file_unique_id": "p1", "width": 90, "height": 90}]
            },
            "voice": {"voice": {"file_id": "voice1", "file_unique_id": "v1", "duration": 3}},
            "document": {
                "document": {"file_id": "doc1", "file_unique_id": "d1", "file_name": "a.pdf"}
            },
            "location": {"location": {"latitude": 51.5, "longitude": -0.12}},
        }
        message = self._message(user, chat, **samples[kind])
        await self.enqueue({"message": message})
        return message

    async def press(
        self,
        user: dict[str, Any],
        message: dict[str, Any],
        data: str | None,
    ) -> str:
        """The user taps a button (or a client forges a press) on `message`; returns its id."""
        query_id = f"cq{next(self._callback_ids)}"
        query: dict[str, Any] = {
            "id": query_id,
            "from": user,
            "chat_instance": f"ci{message['chat']['id']}",
            "message": _public(message),
        }
        if data is not None:
            query["data"] = data
        await self.enqueue({"callback_query": query})
        return query_id

    async def inline_query(self, user: dict[str, Any], query: str, offset: str = "") -> str:
        """The user types "@bot <query>" in some chat; returns the inline query's id."""
        query_id = f"iq{next(self._inline_ids)}"
        await self.enqueue(
            {
                "inline_query": {
                    "id": query_id,
                    "from": user,
                    "query": query,
                    "offset": offset,
                    "chat_type": "sender",
                }
            }
        )
        return query_id

    async def wait_inline_answer(self, query_id: str, patience: float = 20.0) -> dict[str, Any]:
        """The bot's answerInlineQuery parameters for `query_id` (results, cache_time, …)."""
        return await self.wait_for(
            lambda: self.inline_answers.get(query_id), f"inline answer to {query_id}", patience
        )

    async def set_member_status(self, user: dict[str, Any], status: str) -> None:
        """The user blocks ("kicked") or unblocks ("member") the bot in their private chat."""
        chat = self.private_chat(user)
        old = "member" if status == "kicked" else "kicked"
        await self.enqueue(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": user,
                    "date": int(time.time()),
                    "old_chat_member": {"status": old, "user": self.bot, "until_date": 0},
                    "new_chat_member": {"status": status, "user": self.bot, "until_date": 0},
                }
            }
        )

    # -- looking at what happened ---------------------------------------------------------

    def calls_to(self, method: str, *, ok: bool | None = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (successfully), oldest first, as stored (with 'html')."""
        out = []
        for call in self.calls_to("sendMessage"):
            message = call.result
            if chat_id is None or message["chat"]["id"] == chat_id:
                out.append(self.messages[(message["chat"]["id"], message["message_id"])])
        return out

    def answered_queries(self) -> set[str]:
        return {c.params["callback_query_id"] for c in self.calls_to("answerCallbackQuery")}

    async def wait_for(
        self, predicate: Callable[[], Any], what: str = "condition", patience: float = 20.0
    ) -> Any:
        """Wait until `predicate()` is truthy and return it. The timeout only stops a broken
        test from hanging; nothing here asserts how fast the bot is."""
        deadline = time.monotonic() + patience
        async with self._changed:
            while True:
                result = predicate()
                if result:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = [(c.method, c.params.get("text", "")[:60]) for c in self.calls[-8:]]
                    raise AssertionError(f"timed out waiting for {what}; last calls: {recent}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
        if self.settle is not None:
            await self.settle()
        return result

    async def wait_sent(self, chat_id: int, count: int, patience: float = 20.0) -> list[dict]:
        """Wait until the bot has sent at least `count` messages to `chat_id`; return them."""
        return await self.wait_for(
            lambda: (lambda s: s if len(s) >= count else None)(self.sent(chat_id)),
            f"{count} message(s) to chat {chat_id}",
            patience,
        )

    async def wait_answered(self, query_id: str, patience: float = 20.0) -> None:
        await self.wait_for(
            lambda: query_id in self.answered_queries(), f"answer to {query_id}", patience
        )

    async def wait_confirmed(self, update_id: int, patience: float = 20.0) -> None:
        """Wait until the bot confirmed (via getUpdates offset) that it received `update_id`."""
        await self.wait_for(
            lambda: self.confirmed_offset > update_id, f"offset past {update_id}", patience
        )

    def hold(self, method: str) -> Hold:
        hold = Hold(method)
        self.holds.append(hold)
        return hold

    def fail(
        self,
        method: str,
        status: int,
        description: str,
        *,
        times: int = 1,
        chat_id: int | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        fault = Fault(method, status, description, times, chat_id, retry_after)
        self.faults.append(fault)
        return fault

    def stall(
        self,
        method: str,
        *,
        times: int = 1,
        chat_id: int | None = None,
        seconds: float = 60.0,
        deliver: bool = False,
    ) -> Fault:
        """The next `times` answers to `method` come after `seconds` or never (once the client
        gave up waiting): a time-out. With `deliver` the request is still carried out — the
        message is sent, only the answer is lost — as can happen on Telegram."""
        fault = Fault(
            method, 504, "Gateway Timeout", times, chat_id, kind="stall", seconds=seconds,
            deliver=deliver,
        )  # fmt: skip
        self.faults.append(fault)
        return fault

    def drop(self, method: str, *, times: int = 1, chat_id: int | None = None) -> Fault:
        """The next `times` calls of `method` get their connection closed, unanswered."""
        fault = Fault(method, 0, "connection dropped", times, chat_id, kind="drop")
        self.faults.append(fault)
        return fault

    def heal(self) -> None:
        """Telegram is back: every fault not yet used up is cancelled."""
        for fault in self.faults:
            fault.times = 0


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _error(status: int, description: str, parameters: dict | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


async def _until_gone(request: web.Request, seconds: float) -> None:
    """Wait `seconds`, or less if the client closes the connection first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(0.05)


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "html"}


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    form = await request.post()
    raw = {**dict(request.query), **{k: v for k, v in form.items() if isinstance(v, str)}}
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _STRING_PARAMS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _entities(text: str) -> list[dict[str, Any]]:
    """bot_command at the start and @mentions, with offsets in UTF-16 units like Telegram."""
    entities = []
    command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": len(command.group(0))})
    for mention in re.finditer(r"(?<![\w@])@[A-Za-z0-9_]{5,32}", text):
        if command and mention.start() < command.end():
            continue
        entities.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: mention.start()]),
                "length": utf16_len(mention.group(0)),
            }
        )
    return entities
