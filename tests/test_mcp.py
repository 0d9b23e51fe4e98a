"""`python app.py --mcp`: an MCP client lists genlab's typed tools (and only those) and calls them."""

import asyncio
import base64
import io
import json

import httpx
import pytest
from PIL import Image, ImageDraw

from genlab.ui import mcp_tools
from genlab.ui.app import build_app, launch_in_process

mcp = pytest.importorskip("mcp", reason="the MCP server needs gradio[mcp]")
from mcp.client.streamable_http import streamable_http_client  # noqa: E402


@pytest.fixture(scope="module")
def mcp_server():
    demo = build_app("cpu", mcp=True)
    url = launch_in_process(demo, mcp=True)
    yield url
    demo.close()


def talk(url: str, calls):
    """Run `calls(session)` in one MCP session with the app's server; returns what it returns."""
    async def run():
        async with streamable_http_client(url + mcp_tools.MCP_PATH) as (read, write, _):
            async with mcp.ClientSession(read, write) as session:
                await session.initialize()
                return await calls(session)
    return asyncio.run(run())


def drawn_seven() -> str:
    """A 7 in dark ink on white paper, as a data URI (what an MCP client sends for a picture)."""
    picture = Image.new("L", (120, 120), 255)
    ImageDraw.Draw(picture).line([(30, 20), (85, 20), (50, 105)], fill=0, width=10)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_the_tools_are_typed_documented_and_the_only_ones(mcp_server):
    tools = talk(mcp_server, lambda session: session.list_tools()).tools
    assert sorted(t.name for t in tools) == sorted(mcp_tools.TOOLS)  # not the tabs' 16 endpoints
    by_name = {t.name: t for t in tools}
    for tool in tools:
        assert len(tool.description) > 40, tool.name
        for name, field in tool.inputSchema["properties"].items():
            assert field.get("description"), (tool.name, name)  # from the docstring's Args:
    digit = by_name["sample_digits"].inputSchema["properties"]["digit"]
    assert digit["type"] == "string" and "mix" in digit["enum"] and "7" in digit["enum"]
    assert by_name["generate_text"].inputSchema["properties"]["family"]["enum"] == ["gpt", "lstm"]


def test_tools_sample_write_and_judge(mcp_server):
    async def calls(session):
        text = await session.call_tool("generate_text", {"prompt": "ROMEO:", "n_chars": 30, "seed": 3})
        again = await session.call_tool("generate_text", {"prompt": "ROMEO:", "n_chars": 30, "seed": 3})
        digits = await session.call_tool("sample_digits", {"digit": "7", "n": 4, "seed": 1})
        verdict = await session.call_tool("judge_digit", {"image": drawn_seven()})
        refused = await session.call_tool("sample_digits", {"digit": "7", "n": 1000})
        rebuilt = await session.call_tool("reconstruct_digit", {"image": drawn_seven()})
        denoised = await session.call_tool("denoise_digits", {"digit": "3", "n": 2, "seed": 0})
        return text, again, digits, verdict, refused, rebuilt, denoised

    text, again, digits, verdict, refused, rebuilt, denoised = talk(mcp_server, calls)
    picture = next(c for c in rebuilt.content if c.type == "image")
    with Image.open(io.BytesIO(base64.b64decode(picture.data))) as triptych:
        assert triptych.size[0] > 3 * triptych.size[1]  # original | reconstruction | error
    assert not denoised.isError and denoised.content[0].type == "image"
    written = text.content[0].text
    assert written.startswith("ROMEO:") and len(written) == len("ROMEO:") + 30
    assert again.content[0].text == written  # a seed gives the same text
    image = next(c for c in digits.content if c.type == "image")
    with Image.open(io.BytesIO(base64.b64decode(image.data))) as grid:
        assert grid.size == ((2 * 30 + 2) * 3, (2 * 30 + 2) * 3)  # 4 digits, 2x2, 28 px + 2 px gaps, 3x
    judged = json.loads(verdict.content[0].text.replace("'", '"'))
    assert judged["digit"] == 7 and judged["probability"] > 0.5
    assert refused.isError and "maximum value 100" in refused.content[0].text  # checked before any model work


def test_a_signed_in_server_keeps_the_mcp_route_behind_the_sign_in():
    demo = build_app("cpu", mcp=True)
    url = launch_in_process(demo, auth=[("alice", "s3cret")], mcp=True)
    try:
        assert httpx.get(url + mcp_tools.MCP_PATH, timeout=30).status_code == 401
    finally:
        demo.close()
