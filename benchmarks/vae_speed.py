"""VAE tab speed: reconstruct + a 16-step interpolation (GIF included) through the tab's handlers,
next to the bare encoder/decoder calls for the same work, in one run; and the server-side time of one
click on the latent map (vae_point.click: pixel -> point -> decoded picture) next to the bare decoder call.

Usage: python benchmarks/vae_speed.py [--repeats 30]
"""

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genlab.data import mnist  # noqa: E402
from genlab.ui.digit_input import SOURCES, ReferenceDigits  # noqa: E402
from genlab.ui.outputs import OutputFiles  # noqa: E402
from genlab.ui.store import ModelStore  # noqa: E402
from genlab.ui.tabs import vae as vae_tab, vae_point  # noqa: E402

from timing import median_ms  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    store, test = ModelStore("cpu"), ReferenceDigits()
    vae = store.get("vae")
    a, b = [SOURCES[0], 0, "3", 0, None, None], [SOURCES[0], 1, "3", 0, None, None]
    out = OutputFiles()

    def tab_work():
        vae_tab.reconstruction(store, test, *a, "pretrained", None)
        vae_tab.interpolation(store, test, out, *a, *b, 16, "spherical", "pretrained", None)

    digits = mnist.to_tensor(test.get().images[:2])

    def bare_work():
        with torch.inference_mode():
            mu, _ = vae.encode(digits[:1])
            vae.decode_logits(mu)  # the reconstruction
            mu, _ = vae.encode(digits)
            t = torch.linspace(0, 1, 16)[:, None]
            vae.decode_logits((1 - t) * mu[:1] + t * mu[1:])  # the interpolation frames

    tab, bare = median_ms(tab_work, args.repeats), median_ms(bare_work, args.repeats)
    clicks = vae_point.ClickModels(store, vae_tab.Encodings(test))
    spots = iter(range(10**9))

    def click_work():  # a new pixel every time, as a person clicking around
        i = next(spots)
        vae_point.click(clicks, [(37 * i) % 440, (91 * i) % 440], [], "pretrained", None)

    _, plane = clicks.get("pretrained", None)
    z = vae_point.latent_at(plane, 0.5, -0.5)

    def bare_click():
        with torch.inference_mode():
            vae.decode(z)

    click, bare_decode = median_ms(click_work, 5 * args.repeats), median_ms(bare_click, 5 * args.repeats)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| measurement | median | ratio |")
    print("|---|---|---|")
    print(f"| VAE tab: reconstruct + 16-step interpolation with GIF | {tab:.2f} ms | {tab / bare:.2f}x bare |")
    print(f"| bare encoder/decoder calls for the same work | {bare:.2f} ms | 1.00x |")
    print(f"| VAE map click, server side (pixel -> latent -> 224 px picture) | {click:.2f} ms | "
          f"{click / bare_decode:.2f}x bare |")
    print(f"| bare decoder call on one latent | {bare_decode:.2f} ms | 1.00x |")
    print("orientation: the tab's work <= 50 ms, a click <= 150 ms from click to picture, on 2 CPU cores")


if __name__ == "__main__":
    main()
