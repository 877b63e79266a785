"""The studio's web app: one page (studio/static, served from the package: no CDN, nothing downloaded at run time)
and a JSON API over studio.engine.

Model work runs in a worker thread (`run_in_threadpool`), never on the event loop, so a slow decode does not stall
other requests; the engine's lock keeps concurrent ones from interleaving on the model. A request the user got wrong
is answered 4xx with the reason in words (`{"error": ...}`), the same words as the command line."""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from musicvae import listening
from musicvae.reasons import UsageError
from musicvae.temperature import GREEDY
from studio import inputs
from studio.engine import BadRequest, Engine, temperature

STATIC = Path(__file__).parent / "static"


class TooLarge(Exception):
    pass


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


async def _body(request: Request, limit: int) -> bytes:
    """The raw request body, refused once it passes `limit` bytes rather than read whole first."""
    if int(request.headers.get("content-length") or 0) > limit:
        raise TooLarge
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise TooLarge
    return bytes(data)


async def _json(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def _sequence(body: dict, key: str) -> dict:
    given = body.get(key)
    if not isinstance(given, dict):
        raise BadRequest(f"{key} must be a sequence: an object with its tokens")
    return given


def _number(body: dict, key: str, default, kind=int):
    value = body.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or (kind is int and value != int(value))
    ):
        raise BadRequest(f"{key} must be {'a whole number' if kind is int else 'a number'}")
    return kind(value)


def _programs(body: dict) -> tuple[int, ...]:
    programs = body.get("programs") or []
    if not isinstance(programs, list) or not all(isinstance(p, int) and 0 <= p < 128 for p in programs):
        raise BadRequest("programs must be General MIDI programs 0 to 127")
    return tuple(programs)


def _qpm(body: dict) -> float:
    qpm = _number(body, "qpm", 120.0, float)
    if not 1 <= qpm <= 1000:
        raise BadRequest("qpm must be a tempo between 1 and 1000 quarter notes a minute")
    return qpm


def create_app(engine: Engine, test_split: inputs.ShardTestSplit, max_bytes: int = inputs.MAX_BYTES) -> FastAPI:
    app = FastAPI(title="musicvae studio", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/synth.js")
    def synth() -> FileResponse:  # the Web Audio synth the evaluate stage's listening page plays with too
        return FileResponse(listening.SYNTH, media_type="text/javascript")

    rep = engine.representation

    @app.middleware("http")
    async def revalidate(request: Request, call_next):
        response = await call_next(request)
        response.headers["Cache-Control"] = "no-cache"  # after an upgrade the browser asks again, not runs old code
        return response

    @app.exception_handler(BadRequest)
    async def bad_request(_, e: BadRequest):
        return _error(422, str(e))

    @app.exception_handler(UsageError)
    async def usage_error(_, e: UsageError):
        return _error(422, str(e))

    @app.exception_handler(TooLarge)
    async def too_large(_, e: TooLarge):
        return _error(
            413,
            f"the file is larger than a MIDI file may be here ({max_bytes} bytes at most) "
            "[too_large]\n  fix: split it into shorter files",
        )

    def _encoded(sources: list[inputs.Source]) -> list[dict]:
        tokens = torch.stack([torch.from_numpy(s.tokens) for s in sources])
        mu = engine.encode(tokens)
        return [engine.sequence(t, z, s.qpm, s.programs, s.label) for s, t, z in zip(sources, tokens, mu)]

    @app.get("/")
    async def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/api/model")
    async def model():
        return engine.about() | {
            "test_windows": len(test_split.sources),
            "test_split_missing": test_split.why_none,
            "max_bytes": max_bytes,
        }

    @app.post("/api/upload")
    async def upload(request: Request, name: str | None = None):
        data = await _body(request, max_bytes)
        filename = inputs.upload_name(name)
        sources = await run_in_threadpool(inputs.of_upload, filename, data, rep)
        return {"windows": await run_in_threadpool(_encoded, sources)}

    @app.get("/api/test-windows")
    async def test_windows():
        return {"labels": [s.label for s in test_split.sources], "missing": test_split.why_none}

    @app.get("/api/test-windows/{index}")
    async def test_window(index: int):
        if not 0 <= index < len(test_split.sources):
            return _error(
                404,
                f"no test window {index}: there are {len(test_split.sources)}"
                + (f" ({test_split.why_none})" if test_split.why_none else ""),
            )
        return (await run_in_threadpool(_encoded, [test_split.sources[index]]))[0]

    @app.post("/api/interpolate")
    async def interpolate(request: Request):
        body = await _json(request)
        a, b = (engine.tokens(_sequence(body, k).get("tokens")) for k in ("a", "b"))
        return await run_in_threadpool(
            engine.interpolate,
            a,
            b,
            _number(body, "steps", 9),
            temperature(body.get("temperature", GREEDY)),
            _number(body, "seed", 0),
            _qpm(body),
            _programs(body),
        )

    @app.post("/api/attribute")
    async def attribute(request: Request):
        body = await _json(request)
        amounts = body.get("amounts") or {}
        if not isinstance(amounts, dict):
            raise BadRequest("amounts must map attribute names to numbers")
        return await run_in_threadpool(
            engine.attribute, engine.code(body.get("z")), amounts, _qpm(body), _programs(body)
        )

    @app.post("/api/sample")
    async def sample(request: Request):
        body = await _json(request)
        return await run_in_threadpool(
            engine.sample, temperature(body.get("temperature", 0.5)), _number(body, "seed", 0)
        )

    @app.post("/api/midi")
    async def midi(request: Request):
        body = await _json(request)
        data = await run_in_threadpool(engine.midi, engine.tokens(body.get("tokens")), _qpm(body), _programs(body))
        name = re.sub(r"[^\w.-]+", "_", inputs.upload_name(str(body.get("name") or "musicvae.mid")))
        disposition = f'attachment; filename="{name}"'
        return Response(data, media_type="audio/midi", headers={"Content-Disposition": disposition})

    return app
