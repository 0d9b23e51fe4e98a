"""genlab's web app. `python app.py` serves http://127.0.0.1:7860 (GRADIO_SERVER_NAME/PORT override).

On Hugging Face Spaces this file is the entry point; `demo` is what Spaces launches.
"""

import argparse
import os

from genlab.ui import build_app
from genlab.ui.app import launch_options, prepare

demo = build_app()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="genlab web app")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public *.gradio.live link")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    prepare(demo).launch(
        server_name=args.host, server_port=args.port, share=args.share, **launch_options())
