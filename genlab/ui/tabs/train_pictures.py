"""The Train tab's picture picker: which image set an image family trains on (MNIST, Fashion-MNIST,
KMNIST, drawn shapes or the user's own zip of class folders), a grid of real examples per class with
the counts a run will see, and "Train a judge for this data". Shown only for families whose data kind
can choose a set (train_data.picks_pictures)."""

import dataclasses

import gradio as gr

from genlab.params import RequestError
from genlab.ui import train_data
from genlab.ui.handlers import handler
from genlab.ui.pictures import picture
from genlab.ui.train_status import refused_status


@dataclasses.dataclass(frozen=True)
class PictureWidgets:
    group: gr.Column  # the whole picker, shown for image families
    data: gr.Dropdown
    judge: gr.Button  # trains a judge on the chosen pictures, so previews of later runs get verdicts
    upload: gr.File  # the user's zip, shown for "my own zip"
    grid: gr.Image  # real examples, a column per class
    counts: gr.Markdown  # pictures per class (train / held out) and skipped files

    @property
    def inputs(self) -> list:
        return [self.data, self.upload]


def build_pictures(visible: bool, max_bytes: int) -> PictureWidgets:
    with gr.Column(visible=visible, elem_id="train-data") as group:
        with gr.Group():
            data = gr.Dropdown(train_data.DATA_CHOICES, value=train_data.MNIST, label="Pictures to train on",
                               elem_id="train-data-choice")
            upload = gr.File(None, label=f"a .zip of class folders, at most {max_bytes / 1e6:.0f} MB",
                             file_types=[".zip"], type="filepath", visible=False, elem_id="train-data-zip",
                             height=110)
            # three rows of 28-px pictures at twice their size, with captions, fit without scaling
            grid = picture("Examples of each class (real training pictures)", "train-data-grid", height=300)
            counts = gr.Markdown(label="Pictures per class", elem_id="train-data-counts", max_height=220)
        judge = gr.Button("Train a judge for this data", elem_id="train-judge-for-data", size="sm")
    return PictureWidgets(group, data, judge, upload, grid, counts)


def preview_stream(ctx, family, data, upload):
    """/train_data_preview: what a run would train on; a refusal (a bad zip, a set not found here) says why
    in the counts' place, then reaches clients as the error."""
    try:
        yield ctx.data_preview(family, data, upload)
    except RequestError as err:
        yield None, refused_status("Could not use these pictures", str(err))
        raise


def wire_pictures(demo: gr.Blocks, ctx, tab: PictureWidgets, family: gr.Dropdown) -> None:
    """The preview follows the family, the chosen set and the uploaded zip, and shows on page load."""
    private = {"api_visibility": "private", "queue": False}
    tab.data.change(lambda d: gr.File(visible=d == train_data.OWN_ZIP), tab.data, tab.upload, **private)
    shown = handler(preview_stream, ctx)
    named = {"concurrency_id": "train-data", "concurrency_limit": 2, "show_progress": "minimal"}
    tab.data.change(shown, [family, *tab.inputs], [tab.grid, tab.counts], api_name="train_data_preview", **named)
    for trigger in (tab.upload.change, family.change, demo.load):
        trigger(shown, [family, *tab.inputs], [tab.grid, tab.counts], api_visibility="private", **named)
