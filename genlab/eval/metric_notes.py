"""One line per image quality figure of metrics.json: what it measures and which way is better, and
which summary entry holds real data's own value of it (real training images scored the same way).

The model cards, the README's model table and the Compare tab all explain the figures from here.
"""

from typing import Dict, List, Optional

import numpy as np

from genlab.eval.distribution_metrics import CLUSTERS, PROJECTIONS
from genlab.eval.precision_recall import NEIGHBOURS

# summary key -> what it measures; which way is better (in the order the Compare tab lists them)
NOTES = {
    "FID (judge)": "Frechet distance between Gaussian fits to judge features of samples and real test images; lower is better",
    "FID / floor": "FID over real training images' own FID; 1.0 = as close to the test images as real data; lower is better",
    "inception score": "confidence and class balance of the judge's verdicts; higher is better, at most the number of classes",
    "class fidelity": "share of samples the judge calls the class that was asked for; higher is better, at most 1",
    "intra-class diversity": "mean judge-feature distance between samples of one class; closer to real is better (low: mode collapse)",
    "class KL": "KL(real ‖ samples) of the judge's class histograms; lower is better, 0 = the same mix of classes",
    "class EMD": "earth mover's distance between those class histograms (= total variation); lower is better, in [0, 1]",
    "feature KL": f"KL(real ‖ samples) of histograms over {CLUSTERS} k-means bins of judge features; lower is better",
    "feature EMD": f"sliced earth mover's distance between judge features ({PROJECTIONS} seeded directions); lower is better",
    "feature entropy": (f"entropy (bits) of the samples' spread over the {CLUSTERS} bins; closer to real is better "
                        f"(at most {np.log2(CLUSTERS):.2f})"),
    "precision": f"share of samples inside the real images' k-NN manifold (k={NEIGHBOURS}): realism; higher is better",
    "recall": f"share of real images inside the samples' k-NN manifold (k={NEIGHBOURS}): coverage; higher is better",
}

# the summary entry holding real data's value of a figure, where it has one
REAL = {"FID (judge)": "FID floor",
        **{k: f"{k} (real)" for k in NOTES if k not in ("FID (judge)", "FID / floor", "class fidelity")}}
REAL_ENTRIES = set(REAL.values())


def real_value(summary: Dict[str, object], figure: str) -> Optional[object]:
    return summary.get(REAL.get(figure, ""))


def explained(summary: Dict[str, object]) -> List[str]:
    """The figures of `summary` that have a note, in NOTES order."""
    return [k for k in NOTES if k in summary]


def legend() -> str:
    """Markdown: one bullet per figure."""
    return "\n".join(f"- **{k}**: {v}" for k, v in NOTES.items())
