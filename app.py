"""genlab's web app. `python app.py` serves http://127.0.0.1:7860 (GRADIO_SERVER_NAME/PORT override).

On Hugging Face Spaces this file is the entry point; `demo` is what Spaces launches. Public mode
(a Space, --share or --public) applies tighter training limits and a hardened launch.
"""

import argparse
import logging
import os
import sys

# Read once, when torch loads its OpenMP runtime. Busy-waiting (the default) makes a torch thread
# that waits for another spin on a core that the server's other threads, other lanes and, on a
# shared machine, other processes need; passive waiting sleeps instead (benchmarks/gan_speed.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from genlab.ui import build_app, mcp_tools  # noqa: E402
from genlab.ui.app import launch_options, prepare  # noqa: E402
from genlab.ui.memory import cap_malloc_arenas  # noqa: E402
from genlab.ui.public import AuthError, credentials, is_public, on_space  # noqa: E402

cap_malloc_arenas()  # before the server's worker threads exist
# one line per refused request on stderr (genlab.ui.errors), without turning on every library's INFO logs
_refusals = logging.StreamHandler()
_refusals.setFormatter(logging.Formatter("%(asctime)s genlab: %(message)s"))
logging.getLogger("genlab").addHandler(_refusals)
logging.getLogger("genlab").setLevel(logging.INFO)
# built at import because Spaces may import `demo` instead of running this file; SPACE_ID decides.
DEMO_PUBLIC = on_space(os.environ)
demo = build_app(public=DEMO_PUBLIC)


class SettingsError(ValueError):
    """Flags that cannot go together; main() prints the message and exits."""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="genlab web app")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public *.gradio.live link")
    parser.add_argument("--public", action="store_true", help="public mode without a share link (own proxy)")
    parser.add_argument("--mcp", action="store_true",
                        help="also serve an MCP server (tools: sample and denoise digits, reconstruct and judge a "
                             "picture, write text) at /gradio_api/mcp/; local mode only")
    parser.add_argument("--auth", action="append", default=[], metavar="USER:PASSWORD",
                        help="require this sign-in (repeatable); prefer --auth-file: others can see command lines")
    parser.add_argument("--auth-file", action="append", default=[], metavar="FILE",
                        help="require a sign-in from this file of user:password lines (repeatable)")
    return parser.parse_args(argv)


def launch_settings(args: argparse.Namespace, environ=os.environ) -> dict:
    """{"public": bool, "mcp": bool, "launch": keyword arguments for Blocks.launch}; AuthError for bad
    sign-ins, SettingsError for flags that cannot go together."""
    public = is_public(environ, share=args.share, public=args.public)
    auth = credentials(args.auth, args.auth_file) if args.auth or args.auth_file else None
    if args.mcp and public:
        raise SettingsError("--mcp is for local use: public mode (a share link, a Space, --public) keeps it off")
    launch = {"server_name": args.host, "server_port": args.port, "share": args.share,
              **launch_options(public, auth, args.mcp)}
    return {"public": public, "mcp": args.mcp, "launch": launch}


def main(argv=None, environ=os.environ) -> None:
    try:
        settings = launch_settings(parse_args(argv), environ)
    except (AuthError, SettingsError) as err:
        sys.exit(f"app.py: error: {err}")
    # reuse the import-time app unless the flags changed its mode (one build in the usual case)
    same = settings["public"] == DEMO_PUBLIC and not settings["mcp"]
    app = prepare(demo if same else build_app(public=settings["public"], mcp=settings["mcp"]))
    # Gradio's own start-up lines would say "set `share=True` in `launch()`"; this script says --share.
    # quiet keeps Gradio's public URL line and its share-link errors; the thread lock is ours to take.
    _, local_url, share_url = mcp_tools.launch_quietly(app.launch, **settings["launch"], quiet=True,
                                                       prevent_thread_lock=True)
    if settings["mcp"]:
        mcp_tools.keep_only_tools(app)
    print(start_line(local_url, share_url, settings), flush=True)
    if not getattr(sys, "ps1", sys.flags.interactive):  # as Gradio: a script waits, `python -i` does not
        app.block_thread()


def start_line(local_url: str, share_url, settings: dict) -> str:
    """The one line `python app.py` prints once the server answers."""
    if share_url:
        return f"* genlab is running on {local_url} and on {share_url}"
    if settings["launch"]["share"]:  # Gradio printed why the tunnel failed just above
        return f"* genlab is running on {local_url} (no public link: see above)"
    hint = "" if settings["public"] else " (add --share for a public link)"  # a Space or --public is public already
    tools = f"\n* MCP tools at {local_url}{mcp_tools.MCP_PATH}" if settings.get("mcp") else ""
    return f"* genlab is running on {local_url}{hint}{tools}"


if __name__ == "__main__":
    main()
