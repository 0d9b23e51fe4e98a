"""genlab's web app. `python app.py` serves http://127.0.0.1:7860 (GRADIO_SERVER_NAME/PORT override).

On Hugging Face Spaces this file is the entry point; `demo` is what Spaces launches. Public mode
(a Space, --share or --public) applies tighter training limits and a hardened launch.
"""

import argparse
import logging
import os
import sys

from genlab.ui import build_app
from genlab.ui.app import launch_options, prepare
from genlab.ui.memory import cap_malloc_arenas
from genlab.ui.public import AuthError, credentials, is_public, on_space

cap_malloc_arenas()  # before the server's worker threads exist
# one line per refused request on stderr (genlab.ui.errors), without turning on every library's INFO logs
_refusals = logging.StreamHandler()
_refusals.setFormatter(logging.Formatter("%(asctime)s genlab: %(message)s"))
logging.getLogger("genlab").addHandler(_refusals)
logging.getLogger("genlab").setLevel(logging.INFO)
# built at import because Spaces may import `demo` instead of running this file; SPACE_ID decides.
DEMO_PUBLIC = on_space(os.environ)
demo = build_app(public=DEMO_PUBLIC)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="genlab web app")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public *.gradio.live link")
    parser.add_argument("--public", action="store_true", help="public mode without a share link (own proxy)")
    parser.add_argument("--auth", action="append", default=[], metavar="USER:PASSWORD",
                        help="require this sign-in (repeatable); prefer --auth-file: others can see command lines")
    parser.add_argument("--auth-file", action="append", default=[], metavar="FILE",
                        help="require a sign-in from this file of user:password lines (repeatable)")
    return parser.parse_args(argv)


def launch_settings(args: argparse.Namespace, environ=os.environ) -> dict:
    """{"public": bool, "launch": keyword arguments for Blocks.launch}; AuthError for bad sign-ins."""
    public = is_public(environ, share=args.share, public=args.public)
    auth = credentials(args.auth, args.auth_file) if args.auth or args.auth_file else None
    launch = {"server_name": args.host, "server_port": args.port, "share": args.share,
              **launch_options(public, auth)}
    return {"public": public, "launch": launch}


def main(argv=None, environ=os.environ) -> None:
    try:
        settings = launch_settings(parse_args(argv), environ)
    except AuthError as err:
        sys.exit(f"app.py: error: {err}")
    # reuse the import-time app unless the flags changed its mode (one build in the usual case)
    app = prepare(demo if settings["public"] == DEMO_PUBLIC else build_app(public=settings["public"]))
    # Gradio's own start-up lines would say "set `share=True` in `launch()`"; this script says --share.
    # quiet keeps Gradio's public URL line and its share-link errors; the thread lock is ours to take.
    _, local_url, share_url = app.launch(**settings["launch"], quiet=True, prevent_thread_lock=True)
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
    return f"* genlab is running on {local_url}{hint}"


if __name__ == "__main__":
    main()
