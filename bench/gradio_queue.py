"""A student's browser tab as the benchmarks drive it: Gradio's queue protocol, over plain HTTP.

Why not ``gradio_client``: it reads each job's server-sent messages on a thread and hands them to
the waiting call by polling every 50 ms (``gradio_client/utils.py``, ``get_pred_from_sse_v1plus``),
so a call that the app answers in 20 ms takes 70 ms or more through it. Why not the REST API
(``/gradio_api/call/<api>``): every call there is a new Gradio session, and a new session costs
the app's event loop 16 ms (Gradio builds the page's config for all 280 blocks of the app), which
a browser pays once per page load. ``bench/client_overhead.py`` compares the three side by side.

This client does what the browser does: one session per tab, ``queue/join`` for each action,
and the session's event stream (``queue/data``) read as each message arrives.
"""

from __future__ import annotations

import json
import secrets
from typing import Iterator

import httpx
from gradio_client.utils import apply_diff


class QueueCallFailed(RuntimeError):
    pass


class QueueClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=httpx.Timeout(60.0, read=600.0))
        self.session_hash = secrets.token_hex(6)
        config = self.http.get(f"{self.url}/config").raise_for_status().json()
        self.fn_index = {d["api_name"]: d.get("id", i) for i, d in enumerate(config["dependencies"])
                         if d.get("api_name")}

    def stream(self, api_name: str, *data: object) -> Iterator[object]:
        """The endpoint's first output each time the app sends one: every streamed value of a
        generator, then the final one."""
        api = api_name.lstrip("/")
        joined = self.http.post(f"{self.url}/gradio_api/queue/join", json={
            "data": list(data), "fn_index": self.fn_index[api], "session_hash": self.session_hash,
            "event_data": None, "trigger_id": None})
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        values: list | None = None
        with self.http.stream("GET", f"{self.url}/gradio_api/queue/data",
                              params={"session_hash": self.session_hash}) as events:
            events.raise_for_status()
            for line in events.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") != event_id:
                    if message.get("msg") == "close_stream":
                        break
                    continue
                kind = message.get("msg")
                if kind == "process_generating":
                    output = message["output"]["data"]
                    values = list(output) if values is None else [
                        apply_diff(values[i] if i < len(values) else None, diff) for i, diff in enumerate(output)]
                    yield values[0]
                elif kind == "process_completed":
                    if not message.get("success", True):
                        raise QueueCallFailed(f"{api}: {message.get('output')}")
                    yield message["output"]["data"][0]
                    return
        raise QueueCallFailed(f"{api}: the event stream ended without a result")

    def predict(self, api_name: str, *data: object) -> object:
        result = None
        for result in self.stream(api_name, *data):
            pass
        return result

    def close(self) -> None:
        self.http.close()
