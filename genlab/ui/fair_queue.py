"""A cap on the requests one client may have waiting, so one client cannot fill the shared queue.

Gradio's queue has one global `max_size`; a single client with many session ids could take every
place and everyone else would be refused. `cap_waiting_per_client` makes the queue refuse a new
request from a client that already has `limit` requests waiting, with a message saying so.
"""

import ipaddress

import gradio as gr

from genlab.ui.server import client_address

MAX_WAITING_PER_CLIENT = 6  # a person clicking around a page rarely has more than two or three waiting


def client_key(request) -> str:
    """Who a request comes from: the same address failed sign-ins are counted against."""
    return client_address(request.scope)


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
