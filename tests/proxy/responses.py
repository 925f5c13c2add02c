"""The OpenAI Responses API side of the scripted upstream (tests/proxy/upstream.py).

The Codex CLI speaks the Responses API (``POST /v1/responses``, always streamed). Behind the
real LiteLLM proxy, a request for an ``openai/<name>`` deployment whose ``api_base`` is
``<upstream>/v1`` arrives here as ``POST /v1/responses`` with the model name unchanged (measured
with LiteLLM 1.106.2: the proxy does not translate it to chat completions, and it does not pass
Codex's own ``x-codex-*`` headers on). So every request seen names the model the client asked
the proxy for.

A *main* model follows a script of turns, each turn a list of function calls (``spawn_agent``,
``wait_agent`` …); every other model, and the main model once its turns are used up, answers
text. Each answer ends with ``response.completed`` carrying usage token counts.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: in a ``wait_agent`` call's arguments, stands for the ids of the agents spawned so far
SPAWNED = "$spawned"


@dataclass
class Call:
    """One function call the main model makes: a tool name, its arguments (a JSON object)
    and, for a tool Codex offers inside a namespace (``multi_agent_v1``), that namespace."""

    name: str
    arguments: dict[str, Any]
    namespace: str | None = None


#: Codex 0.171.0 offers its subagent tools in this namespace; a call without it is refused
#: ("unsupported call: spawn_agent")
AGENT_TOOLS = "multi_agent_v1"


def spawn_agent(agent_type: str, message: str, **extra: Any) -> Call:
    """Codex's ``spawn_agent``: ``agent_type`` names a ``.codex/agents/<name>.toml`` file."""
    return Call("spawn_agent", {"agent_type": agent_type, "message": message, **extra}, AGENT_TOOLS)


#: with ``[features] multi_agent_v2 = true`` Codex 0.171.0 offers its agent tools in this
#: namespace instead; the spawn comes to PreToolUse hooks as ``collaborationspawn_agent``
AGENT_TOOLS_V2 = "collaboration"


def spawn_agent_v2(agent_type: str, message: str, task_name: str = "task") -> Call:
    """MultiAgentV2's ``spawn_agent``: a ``task_name`` is required, and ``fork_turns: none``
    (the default ``all`` forks the whole history, which Codex refuses with an ``agent_type``)."""
    arguments = {
        "agent_type": agent_type,
        "message": message,
        "task_name": task_name,
        "fork_turns": "none",
    }
    return Call("spawn_agent", arguments, AGENT_TOOLS_V2)


def wait_agent(timeout_ms: int = 60000) -> Call:
    """Codex's ``wait_agent`` on every agent spawned so far in the conversation."""
    return Call("wait_agent", {"targets": SPAWNED, "timeout_ms": timeout_ms}, AGENT_TOOLS)


@dataclass
class ResponsesScript:
    """What the Responses models do: ``main`` makes ``turns`` of calls, then says
    ``main_reply``; any other model says ``replies[model]`` or ``worker_reply (model)``."""

    main: str = "cx-main"
    turns: list[list[Call]] = field(default_factory=list)
    main_reply: str = "the main agent is done"
    worker_reply: str = "worker finished the task"
    replies: dict[str, str] = field(default_factory=dict)
    #: usage reported per answer: input tokens are ``input_base + len(text) // 40``
    input_base: int = 100
    output_tokens: int = 7
    cached_tokens: int = 0
    delays: dict[str, float] = field(default_factory=dict)


@dataclass
class ResponsesSeen:
    """One ``/v1/responses`` request the upstream answered."""

    model: str
    text: str  #: the text of the input items (messages and function call outputs)
    calls: list[str]  #: names of the function calls the answer made
    usage: dict[str, int]
    stream: bool
    tools: list[str]  #: the names of the tools the request offered (namespaces flattened)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [
        str(part.get("text", ""))
        for part in content
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    ]
    return "\n".join(parts)


def input_text(items: Any) -> str:
    """The text of a request's input: messages' text and function call outputs."""
    if isinstance(items, str):
        return items
    parts: list[str] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("type", "message") == "message":
            parts.append(_text_of(item.get("content")))
        elif item.get("type") == "function_call_output":
            output = item.get("output")
            parts.append(output if isinstance(output, str) else _text_of(output))
    return "\n".join(parts)


def answered_turns(items: Any) -> int:
    """How many times the model has answered in this conversation: each run of consecutive
    output items (assistant messages, function calls, reasoning) is one answer."""
    turns = 0
    in_answer = False
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        produced = kind in ("function_call", "reasoning") or (
            kind == "message" and item.get("role") == "assistant"
        )
        if produced and not in_answer:
            turns += 1
        in_answer = produced
    return turns


_AGENT_ID = re.compile(r'"agent_id"\s*:\s*"([^"]+)"')


def spawned_ids(items: Any) -> list[str]:
    """Agent ids Codex returned for this conversation's ``spawn_agent`` calls."""
    listed = items if isinstance(items, list) else []
    spawn_calls = {
        item.get("call_id")
        for item in listed
        if isinstance(item, dict)
        and item.get("type") == "function_call"
        and item.get("name") == "spawn_agent"
    }
    ids: list[str] = []
    for item in listed:
        if not isinstance(item, dict) or item.get("type") != "function_call_output":
            continue
        if item.get("call_id") not in spawn_calls:
            continue
        output = item.get("output")
        text = output if isinstance(output, str) else _text_of(output)
        ids += _AGENT_ID.findall(text)
    return ids


def tool_names(tools: Any) -> list[str]:
    names: list[str] = []
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        if tool.get("type") == "namespace":
            names += [f"{tool.get('name')}.{t.get('name')}" for t in tool.get("tools") or []]
        elif isinstance(tool.get("name"), str):
            names.append(tool["name"])
    return names


class ResponsesModel:
    """The scripted Responses models and what they saw (thread-safe)."""

    def __init__(self) -> None:
        self.script = ResponsesScript()
        self.seen: list[ResponsesSeen] = []
        self._lock = threading.Lock()
        self._counter = 0
        #: set when the script is replaced: a delayed answer to the old script is dropped
        self._replaced = threading.Event()

    def reset(self, script: ResponsesScript | None = None) -> None:
        with self._lock:
            self.script = script or ResponsesScript()
            self.seen = []
            self._replaced.set()
            self._replaced = threading.Event()

    def models_seen(self) -> list[str]:
        with self._lock:
            return [s.model for s in self.seen]

    def usage_by_model(self) -> dict[str, dict[str, int]]:
        totals: dict[str, dict[str, int]] = {}
        with self._lock:
            for s in self.seen:
                bucket = totals.setdefault(
                    s.model, {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0}
                )
                bucket["input_tokens"] += s.usage["input_tokens"]
                bucket["cached_input_tokens"] += s.usage["cached_tokens"]
                bucket["output_tokens"] += s.usage["output_tokens"]
        return totals

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}_{self._counter:06d}"

    def _output(self, script: ResponsesScript, model: str, items: Any) -> list[dict[str, Any]]:
        done = answered_turns(items)
        if model == script.main and done < len(script.turns) and script.turns[done]:
            out = []
            for call in script.turns[done]:
                arguments = dict(call.arguments)
                if arguments.get("targets") == SPAWNED:
                    arguments["targets"] = spawned_ids(items)
                item: dict[str, Any] = {
                    "type": "function_call",
                    "id": self._next_id("fc"),
                    "call_id": self._next_id("call"),
                    "name": call.name,
                    "arguments": json.dumps(arguments),
                    "status": "completed",
                }
                if call.namespace is not None:
                    item["namespace"] = call.namespace
                out.append(item)
            return out
        if model == script.main:
            reply = script.replies.get(model, script.main_reply)
        else:
            reply = script.replies.get(model, f"{script.worker_reply} ({model})")
        return [
            {
                "type": "message",
                "id": self._next_id("msg"),
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": reply, "annotations": []}],
            }
        ]

    def answer(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
        """The finished response object for ``body`` and whether to stream it; ``None`` when
        the answer was delayed and a reset replaced the script meanwhile (no answer is sent).

        The request is recorded when it arrives, before any delay: a request of a test whose
        client was killed during its model's delay (the proxy still forwards it) belongs to that
        test's record, never to the record of whatever test runs when the delay ends."""
        model = str(body.get("model", ""))
        items = body.get("input")
        text = input_text(items)
        with self._lock:
            script, replaced = self.script, self._replaced
        output = self._output(script, model, items)
        usage = {
            "input_tokens": script.input_base + len(text) // 40,
            "cached_tokens": script.cached_tokens,
            "output_tokens": script.output_tokens + sum(len(json.dumps(o)) for o in output) // 80,
        }
        stream = bool(body.get("stream"))
        calls = [str(o["name"]) for o in output if o["type"] == "function_call"]
        with self._lock:
            if not replaced.is_set():
                tools = tool_names(body.get("tools"))
                self.seen.append(ResponsesSeen(model, text, calls, usage, stream, tools))
        delay = script.delays.get(model)
        if delay and replaced.wait(delay):
            return None
        response = {
            "id": self._next_id("resp"),
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "model": model,
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": usage["input_tokens"],
                "input_tokens_details": {"cached_tokens": usage["cached_tokens"]},
                "output_tokens": usage["output_tokens"],
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": usage["input_tokens"] + usage["output_tokens"],
            },
        }
        return response, stream


def chat_completion(body: dict[str, Any]) -> dict[str, Any]:
    """A one-word chat completion: LiteLLM sends aether's 1-token proxy probe of an
    ``openai/`` deployment here as ``POST /v1/chat/completions`` (never streamed)."""
    return {
        "id": "chatcmpl-probe",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model", "")),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "pong"},
                "finish_reason": "length",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _event(kind: str, sequence: int, data: dict[str, Any]) -> bytes:
    payload = {"type": kind, "sequence_number": sequence, **data}
    return f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode()


def sse_events(response: dict[str, Any]) -> Iterator[bytes]:
    """The SSE stream of one finished response, as the Responses API streams it."""
    sequence = iter(range(1 << 30))
    opening = {**response, "status": "in_progress", "output": [], "usage": None}
    yield _event("response.created", next(sequence), {"response": opening})
    yield _event("response.in_progress", next(sequence), {"response": opening})
    for index, item in enumerate(response["output"]):
        if item["type"] == "message":
            yield from _message_events(index, item, sequence)
        else:
            yield from _call_events(index, item, sequence)
    yield _event("response.completed", next(sequence), {"response": response})


def _message_events(index: int, item: dict[str, Any], sequence: Iterator[int]) -> Iterator[bytes]:
    text = item["content"][0]["text"]
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    yield _event(
        "response.output_item.added",
        next(sequence),
        {"output_index": index, "item": {**item, "status": "in_progress", "content": []}},
    )
    empty = {"type": "output_text", "text": "", "annotations": []}
    yield _event("response.content_part.added", next(sequence), {**where, "part": empty})
    yield _event("response.output_text.delta", next(sequence), {**where, "delta": text})
    yield _event("response.output_text.done", next(sequence), {**where, "text": text})
    part = item["content"][0]
    yield _event("response.content_part.done", next(sequence), {**where, "part": part})
    yield _event("response.output_item.done", next(sequence), {"output_index": index, "item": item})


def _call_events(index: int, item: dict[str, Any], sequence: Iterator[int]) -> Iterator[bytes]:
    opening = {**item, "arguments": "", "status": "in_progress"}
    where = {"item_id": item["id"], "output_index": index}
    yield _event(
        "response.output_item.added", next(sequence), {"output_index": index, "item": opening}
    )
    yield _event(
        "response.function_call_arguments.delta",
        next(sequence),
        {**where, "delta": item["arguments"]},
    )
    yield _event(
        "response.function_call_arguments.done",
        next(sequence),
        {**where, "arguments": item["arguments"]},
    )
    yield _event("response.output_item.done", next(sequence), {"output_index": index, "item": item})
