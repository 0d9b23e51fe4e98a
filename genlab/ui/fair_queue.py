"""A cap on the requests one client may have waiting, so one client cannot fill the shared queue.

Gradio's queue has one global `max_size`; a single client with many session ids could take every
place and everyone else would be refused. `cap_waiting_per_client` makes the queue refuse a new
request from a client that already has `limit` requests waiting, with a message saying so.
"""

import ipaddress
import os
from typing import Mapping, Optional

import gradio as gr

MAX_WAITING_PER_CLIENT = 6  # a person clicking around a page rarely has more than two or three waiting


def client_key(request, environ: Mapping[str, str] = os.environ) -> str:
    """Who a request comes from: its address, as the server sees it.

    uvicorn already replaces the peer address with X-Forwarded-For when the peer is 127.0.0.1 (a
    local reverse proxy, or Gradio's share tunnel). On a Space the app sits behind Hugging Face's
    proxy, which is not on loopback, so there the first X-Forwarded-For entry names the client. A
    client that forges that header only escapes its own cap; the queue's global size still holds.
    """
    forwarded: Optional[str] = request.headers.get("x-forwarded-for") if environ.get("SPACE_ID") else None
    if forwarded and forwarded.split(",")[0].strip():
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


def _is_loopback(key: str) -> bool:
    """This machine: its owner, or a tunnel or proxy that forwards no client address (then every user
    looks alike, and capping "one client" would cap them all; the queue's global size still holds)."""
    try:
        return ipaddress.ip_address(key).is_loopback
    except ValueError:
        return key == "localhost"


def waiting_from(queue, key: str) -> int:
    """Requests from client `key` still waiting in Gradio's queue (not yet running)."""
    return sum(client_key(event.request) == key
               for lane in queue.event_queue_per_concurrency_id.values() for event in lane.queue)


def cap_waiting_per_client(demo: gr.Blocks, limit: int = MAX_WAITING_PER_CLIENT) -> gr.Blocks:
    """Refuse a request when its client already has `limit` waiting. Call after `demo.queue()`.

    Gradio has no setting for this; `Queue.push` is where it decides whether a request may join,
    so the check wraps that one method of this app's queue and leaves everything else as it is."""
    queue = demo._queue
    join = queue.push

    async def push(body, request, username):
        key = client_key(request)
        if not _is_loopback(key) and waiting_from(queue, key) >= limit:
            # shaped as a validator's answer: gradio_client and the page show its message (a 503 says only
            # "queue full", a 400 only its status line)
            message = (f"you already have {limit} requests waiting on this server; "
                       f"wait for them to finish before sending more")
            return False, [{"__type__": "validate", "is_valid": False, "message": message,
                            "parameter_name": "request"}], "validator_error"
        return await join(body, request, username)

    queue.push = push
    return demo
