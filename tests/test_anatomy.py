"""Network diagrams are read off the networks: every family traces, shapes follow the config."""

import pytest

from genlab import params, weights
from genlab.eval import anatomy
from genlab.registry import FAMILIES
from genlab.ui import network_diagram


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_traces_to_stages_with_shapes_and_all_its_parameters_in_layers(name):
    family = FAMILIES[name]
    config = weights.read_config(family, weights.shipped(family))
    stages = anatomy.trace(family, config)
    assert len(stages) >= 3 and all(s.shape for s in stages)
    assert len({s.name for s in stages}) == len(stages)  # a module called twice is listed once
    model = family.model_cls(config)
    assert sum(s.parameters for s in stages) <= sum(p.numel() for p in model.parameters())


def test_image_models_end_in_a_picture_and_the_judge_in_its_classes():
    last = {name: anatomy.trace(FAMILIES[name], FAMILIES[name].config_cls())[-1] for name in ("vae", "diffusion", "judge")}
    assert last["vae"].shape == (1, 28, 28) and last["diffusion"].shape == (1, 28, 28)
    assert last["judge"].shape == (10,)
    judge = anatomy.trace(FAMILIES["judge"], params.build(FAMILIES["judge"].config_cls, {"classes": 4}))
    assert judge[-1].shape == (4,)


def test_a_configs_own_sizes_show():
    gan = FAMILIES["gan"]
    narrow = {s.name: s.shape for s in anatomy.trace(gan, params.build(gan.config_cls, {"g_width": 8}))}
    assert narrow["generator.net.3"] == (8, 28, 28) and narrow["generator.net.6"] == (1, 28, 28)
    gpt = FAMILIES["gpt"]
    config = params.build(gpt.config_cls, {"vocab": "abc\n", "context": 16, "n_layer": 2, "n_head": 2, "n_embd": 16})
    stages = anatomy.trace(gpt, config)
    assert [s.kind for s in stages].count("Block") == 2 and stages[-1].shape == (16, 4)  # (T, vocab) logits
    assert anatomy.input_shape(gpt, config) == (16,)


def test_the_diagram_draws_a_row_per_sub_network_and_every_shape():
    gan = FAMILIES["gan"]
    html = network_diagram.diagram(gan, gan.config_cls())
    assert "generator" in html and "discriminator" in html and "1×28×28" in html and "64×14×14" in html
    stages = anatomy.trace(FAMILIES["judge"], FAMILIES["judge"].config_cls())
    assert network_diagram.parts(stages) == [("", stages)]  # one network: one row
    assert len(network_diagram.parts(anatomy.trace(gan, gan.config_cls()))) == 2


def test_the_playground_models_draw_too():
    from genlab.models.playground import PLAYGROUND_FAMILIES
    for family in PLAYGROUND_FAMILIES.values():
        stages = anatomy.trace(family, family.config_cls())
        assert stages[-1].shape in {(2,), (1,)} and all(s.kind == "Linear" for s in stages)
    gan = anatomy.trace(PLAYGROUND_FAMILIES["gan"], PLAYGROUND_FAMILIES["gan"].config_cls())
    assert gan[0].name.startswith("generator") and gan[-1].name.startswith("discriminator")  # G feeds D
    assert "generator" in network_diagram.diagram(PLAYGROUND_FAMILIES["gan"], PLAYGROUND_FAMILIES["gan"].config_cls())
