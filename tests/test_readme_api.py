"""The README's gradio_client example runs as written against a local server."""

import contextlib
import io
import re
from pathlib import Path

from PIL import Image

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- api-example[^>]*-->\n```python\n(.*?)\n```", text, re.S)
    assert block, "README.md has no api-example block"
    return block.group(1)


def test_the_readme_api_example_samples_writes_and_trains(server):
    code = readme_example().replace('Client("http://127.0.0.1:7860/")', f'Client("{server}", verbose=False)')
    assert server in code, "the example must connect to the address the README names"
    names = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(code, "README.md", "exec"), names)
    with Image.open(names["grid"]) as image:
        assert image.format == "PNG" and min(image.size) > 28
    assert names["text"].startswith("ROMEO:") and len(names["text"]) == len("ROMEO:") + 80
    assert "finished: step 20/20" in names["status"]
    assert names["text"] in printed.getvalue() and names["status"] in printed.getvalue()
