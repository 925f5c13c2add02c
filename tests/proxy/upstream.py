"""A scripted Anthropic-Messages model server: the upstream behind the real LiteLLM proxy.

The Claude Code tests need a model that answers like Anthropic's ``POST /v1/messages`` (Claude
Code streams, so Server-Sent Events) and that they control: a *queen* model that calls the
``Agent`` tool to spawn subagents, and worker models that answer with text. LiteLLM forwards a
request for an ``anthropic/<name>`` deployment with ``api_base`` pointing here unchanged, so
every request this server sees names the model the client asked the proxy for — the evidence
the routing tests assert on.

Every request is recorded (model, system prompt text, the text of the messages, whether a tool
result was present), and so is the usage each answer reported, per model.

The same server answers the OpenAI Responses API (``POST /v1/responses``) for the Codex CLI
tests: ``Upstream.responses`` holds that side's own script and record (tests/proxy/responses.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.proxy.responses import ResponsesModel, chat_completion, sse_events


@dataclass
class Seen:
    """One request the upstream answered."""

    model: str
    system: str
    text: str
    tool_results: int
    stream: bool
    usage: dict[str, int]
    #: the request body's size in bytes, as JSON (what the model is sent each turn)
    size: int = 0


@dataclass
class Script:
    """What the models do. The queen spawns ``spawns`` (one ``Agent`` call a turn) or, when
    ``turns`` is given, each turn's list of ``Agent`` calls at once; then it finishes with
    ``queen_reply``. Any other model answers ``worker_reply`` — unless ``delegates`` gives it
    turns of its own ``Agent`` calls first (a subagent that spawns subagents). ``delays`` makes
    a model wait before answering (a slow model), per model name, in seconds.

    Each spawn is the ``Agent`` tool input: ``subagent_type``, ``description``, ``prompt``."""

    queen: str = "cc-queen"
    spawns: list[dict[str, str]] = field(default_factory=list)
    turns: list[list[dict[str, str]]] | None = None
    delegates: dict[str, list[list[dict[str, str]]]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    worker_reply: str = "worker finished the task"
    queen_reply: str = "the queen is done"
    replies: dict[str, str] = field(default_factory=dict)
    #: another script for the conversations whose text holds the key (the user's prompt): two
    #: sessions at once, each doing its own thing
    by_prompt: dict[str, Script] = field(default_factory=dict)

    def for_text(self, text: str) -> Script:
        for key, script in self.by_prompt.items():
            if key in text:
                return script
        return self

    def turns_of(self, model: str) -> list[list[dict[str, str]]]:
        if model == self.queen:
            return self.turns if self.turns is not None else [[s] for s in self.spawns]
        return self.delegates.get(model, [])


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif block.get("type") == "tool_result":
                parts.append(_text_of(block.get("content")))
    return "\n".join(parts)


def _count_assistant_turns(messages: list[Any]) -> int:
    """How many turns the model has answered in this conversation so far."""
    return sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")


def _count_tool_results(messages: list[Any]) -> int:
    count = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            count += sum(
                1 for b in content if isinstance(b, dict) and b.get("type") == "tool_result"
            )
    return count


class Upstream:
    """The server, its script and what it saw. ``start()`` binds 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self.script = Script()
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._counter = 0
        #: set when the script is replaced: a delayed answer to the old script is dropped
        self._replaced = threading.Event()
        #: the Responses API models (Codex), scripted and recorded on their own
        self.responses = ResponsesModel()

    # --- control ---------------------------------------------------------------------------

    def reset(self, script: Script | None = None) -> None:
        with self._lock:
            self.script = script or Script()
            self.seen = []
            self._replaced.set()
            self._replaced = threading.Event()

    def models_seen(self) -> list[str]:
        """Models of the requests Claude Code made (it always streams; aether's one-token
        proxy probe does not, so it is left out)."""
        with self._lock:
            return [s.model for s in self.seen if s.stream]

    def usage_by_model(self) -> dict[str, dict[str, int]]:
        """Usage answered to Claude Code's (streamed) requests, per model."""
        totals: dict[str, dict[str, int]] = {}
        with self._lock:
            for s in self.seen:
                if not s.stream:
                    continue
                bucket = totals.setdefault(s.model, {"input_tokens": 0, "output_tokens": 0})
                for key in bucket:
                    bucket[key] += s.usage.get(key, 0)
        return totals

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Upstream:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}")
                if self.path.rstrip("/").endswith("count_tokens"):
                    self._json({"input_tokens": 10})
                    return
                if self.path.rstrip("/").endswith("/responses"):
                    upstream._answer_responses(self, body)
                    return
                if self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(chat_completion(body))  # a probe of an openai/ deployment
                    return
                upstream._answer(self, body)

            def _json(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- answering -------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}_{self._counter:06d}"

    def _content_for(self, script: Script, model: str, messages: list[Any]) -> list[dict[str, Any]]:
        turns = script.turns_of(model)
        done = _count_assistant_turns(messages)
        if done < len(turns) and turns[done]:
            return [
                {"type": "tool_use", "id": self._next_id("toolu"), "name": "Agent", "input": s}
                for s in turns[done]
            ]
        if model == script.queen:
            return [{"type": "text", "text": script.replies.get(model, script.queen_reply)}]
        reply = script.replies.get(model, f"{script.worker_reply} ({model})")
        return [{"type": "text", "text": reply}]

    def _answer_responses(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        answered = self.responses.answer(body)
        if answered is None:
            return  # delayed past a reset: the connection closes unanswered
        response, stream = answered
        if not stream:
            data = json.dumps(response).encode()
            handler.send_response(200)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.end_headers()
        for event in sse_events(response):
            handler.wfile.write(event)
        handler.wfile.flush()

    def _answer(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        """Record the request when it arrives, then answer it — after the script's delay for
        its model, unless a reset replaces the script meanwhile (see ResponsesModel.answer)."""
        model = str(body.get("model", ""))
        messages = body.get("messages") or []
        text = "\n".join(_text_of(m.get("content")) for m in messages if isinstance(m, dict))
        with self._lock:
            script, replaced = self.script.for_text(text), self._replaced
        content = self._content_for(script, model, messages)
        system = _text_of(body.get("system"))
        usage = {
            "input_tokens": 100 + len(text) // 40,
            "output_tokens": 7 + sum(len(json.dumps(c)) for c in content) // 40,
        }
        stream = bool(body.get("stream"))
        with self._lock:
            if not replaced.is_set():
                size = len(json.dumps(body).encode())
                tool_results = _count_tool_results(messages)
                self.seen.append(Seen(model, system, text, tool_results, stream, usage, size))
        delay = script.delays.get(model)
        if delay and stream and replaced.wait(delay):
            return  # the connection closes unanswered
        stop = "tool_use" if content[0]["type"] == "tool_use" else "end_turn"
        message = {
            "id": self._next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
        }
        if not stream:
            data = json.dumps(message).encode()
            handler.send_response(200)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.end_headers()
        for event in _sse_events(message):
            handler.wfile.write(event)
        handler.wfile.flush()


def _sse(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


def _sse_events(message: dict[str, Any]) -> Iterator[bytes]:
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    yield _sse("message_start", {"message": start})
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield _sse(
                "content_block_start",
                {"index": index, "content_block": {"type": "text", "text": ""}},
            )
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            opening = {**block, "input": {}}
            yield _sse("content_block_start", {"index": index, "content_block": opening})
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        yield _sse("content_block_delta", {"index": index, "delta": delta})
        yield _sse("content_block_stop", {"index": index})
    yield _sse(
        "message_delta",
        {
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
    )
    yield _sse("message_stop", {})
