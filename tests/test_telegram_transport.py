"""The aiohttp transport under python-telegram-bot: JSON and files as the Bot API takes them,
and failures told apart by whether the request may have reached Telegram."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.adapters.telegram import network
from bot.adapters.telegram.transport import AiohttpRequest, NotSent

P = RequestParameter.from_input


@pytest.fixture
async def api():
    """A local server: /echo records what it was sent (with its content type), /slow answers
    after `api.delay` s."""
    seen: list[dict] = []
    kinds: list[str] = []
    state = {"delay": 0.0}

    async def echo(request: web.Request) -> web.Response:
        kinds.append(request.content_type)
        if request.content_type.startswith("multipart/"):
            form = {}
            async for part in await request.multipart():
                form[part.name] = (part.filename, await part.read())
        elif request.content_type == "application/json":
            form = await request.json()
        else:
            form = {k: (None, v.encode()) for k, v in (await request.post()).items()}
        seen.append(form)
        return web.json_response({"ok": True, "result": True})

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(state["delay"])
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/echo", echo)
    app.router.add_post("/slow", slow)

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(request.rel_url))  # forever: aiohttp gives up, quoting the URL

    app.router.add_get("/bot123:SECRET/sendMessage", loop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]

    class Api:
        url = f"http://127.0.0.1:{port}"
        requests = seen
        content_types = kinds

        def slow_by(self, seconds: float) -> None:
            state["delay"] = seconds

    yield Api()
    await runner.cleanup()


async def started(**kw) -> AiohttpRequest:
    request = AiohttpRequest(**kw)
    await request.initialize()
    return request


async def test_parameters_go_as_json_and_files_as_multipart(api):
    request = await started()
    try:
        markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "cmd:reset confirm"}]]}
        params = RequestData([P("chat_id", 5), P("text", "hé <b>"), P("reply_markup", markup)])
        status, body = await request.do_request(f"{api.url}/echo", "POST", params)
        assert status == 200 and b'"ok": true' in body
        assert api.content_types[-1] == "application/json"
        assert api.requests[-1] == {"chat_id": 5, "text": "hé <b>", "reply_markup": markup}

        png = InputFile(b"\x89PNG fake", filename="board.png")
        photo = RequestData([P("chat_id", 5), P("photo", png)])
        await request.do_request(f"{api.url}/echo", "POST", photo)
        sent = api.requests[-1]
        assert sent["chat_id"] == (None, b"5")
        assert sent["photo"] == ("board.png", b"\x89PNG fake")
    finally:
        await request.shutdown()


async def test_a_slow_answer_is_a_timeout_that_may_have_been_sent(api):
    request = await started(read_timeout=0.2)
    api.slow_by(1)
    try:
        with pytest.raises(TimedOut) as caught:
            await request.do_request(f"{api.url}/slow", "POST")
        assert not network.never_sent(caught.value), "Telegram may have posted it: no resend"
    finally:
        await request.shutdown()


async def test_no_free_connection_in_time_is_a_timeout_that_was_never_sent(api):
    request = await started(connection_pool_size=1, read_timeout=5)
    api.slow_by(1)
    try:
        busy = asyncio.ensure_future(request.do_request(f"{api.url}/slow", "POST"))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut) as caught:
            await request.do_request(
                f"{api.url}/slow", "POST", pool_timeout=0.1, connect_timeout=0.1
            )
        assert isinstance(caught.value.__cause__, NotSent)
        assert network.never_sent(caught.value), "safe to send again"
        assert (await busy)[0] == 200
    finally:
        await request.shutdown()


async def test_nobody_listening_is_a_network_error_that_was_never_sent():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the request: nothing listens
    request = await started()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(f"http://127.0.0.1:{port}/x", "POST")
        assert isinstance(caught.value.__cause__, NotSent)
    finally:
        await request.shutdown()


async def test_requests_before_start_or_after_stop_say_so():
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:1/x", "POST")
    await request.initialize()
    await request.shutdown()
    await request.shutdown()  # twice is fine
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:1/x", "POST")


async def test_error_messages_never_carry_the_token(api):
    """Bot API paths hold the token: a failure that quotes its URL keeps only the origin."""
    request = await started(read_timeout=5)
    token_url = f"{api.url}/bot123:SECRET/sendMessage"
    try:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(token_url, "GET")
        assert "SECRET" not in str(caught.value), caught.value
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
    finally:
        await request.shutdown()
