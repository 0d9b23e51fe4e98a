"""Every reported image figure is explained once, with real data's own value beside it, in the model
cards, the README's model table and the Compare tab."""

import torch

from genlab.eval import cards, compare, metric_notes, metrics
from genlab.registry import FAMILIES

SUMMARY = {"FID (judge)": 9.0, "FID floor": 3.5, "FID / floor": 2.57, "class fidelity": 0.99,
           "precision": 0.71, "precision (real)": 0.78, "NLL (nats, k=200)": 84.6}


def test_every_figure_evaluate_reports_has_a_note_and_a_real_value():
    reported = {"FID (judge)", "FID / floor", "inception score", "class fidelity", "intra-class diversity",
                *metrics.MATCH_FIGURES}
    assert reported == set(metric_notes.NOTES)
    for figure in metrics.MATCH_FIGURES:
        assert metric_notes.REAL[figure] == f"{figure} (real)"
        assert "better" in metric_notes.NOTES[figure]


def test_a_card_puts_real_values_beside_their_figures_and_keeps_other_entries():
    table = cards.quality_table(SUMMARY)
    assert f"| precision | 0.71 | 0.78 | {metric_notes.NOTES['precision']} |" in table
    assert "| FID (judge) | 9.0 | 3.5 |" in table
    assert "| NLL (nats, k=200) | 84.6 |  |  |" in table
    assert "precision (real)" not in table and "FID floor" not in table
    assert all(row.count("|") == 5 for row in table.splitlines())  # no stray pipe inside a note
    assert cards.quality_table({"val loss": 1.4}) == "| metric | value |\n|---|---|\n| val loss | 1.4 |"


def test_the_compare_quality_table_lists_each_figure_per_family_with_its_real_value():
    entries = [compare.Entry(FAMILIES["gan"], torch.zeros(1, 1, 28, 28), 0.1, 1, {"samples": 10000, "summary": SUMMARY}),
               compare.Entry(FAMILIES["vae"], torch.zeros(0, 1, 28, 28), 0.2, 10,
                             {"samples": 10000, "distribution_samples": 500, "summary": {"FID (judge)": 180.0}})]
    text = compare.table(entries)
    assert "| precision | 0.71 (real 0.78) | n/a |" in text
    assert "| FID (judge) | 9.0 (real 3.5) | 180.0 |" in text
    assert "(class KL to recall: 500)" in text
    assert "| recall |" not in text  # a figure no family has is left out


def test_the_readme_table_explains_every_figure():
    from genlab.cli import readme

    table = readme.model_table()
    for figure, note in metric_notes.NOTES.items():
        assert f"- **{figure}**: {note}" in table
