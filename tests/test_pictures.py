"""What every tab's pictures and messages share: no third-party share button, whole messages."""

import gradio as gr
import pytest

from genlab.params import RequestError
from genlab.ui import build_app
from genlab.ui.pictures import BUTTONS
from genlab.ui.store import ModelStore


def test_no_image_offers_a_share_button():
    demo = build_app("cpu")
    pictures = [b for b in demo.blocks.values() if isinstance(b, gr.Image)]
    assert len(pictures) >= 12
    for picture in pictures:
        assert picture.buttons is not None and "share" not in picture.buttons, picture.elem_id
        assert set(picture.buttons) <= set(BUTTONS), picture.elem_id


@pytest.mark.parametrize("session, label, family, message", [
    ({"runs": {}, "current": None}, None, None, "this session has no training run yet"),
    ({"runs": {}, "current": None}, "gan run 7", "gan", "no gan run named 'gan run 7' in this session"),
    (None, "x", None, "no run named 'x' in this session"),
])
def test_a_missing_run_is_named_in_words(tmp_path, session, label, family, message):
    with pytest.raises(RequestError, match=message):
        ModelStore("cpu", runs_root=tmp_path).run_folder(session, label, family)
