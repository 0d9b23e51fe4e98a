"""HTML for the Text tab's look inside the model at one position: attention heat maps over the text
(after Transformer Explainer, poloclub.github.io/transformer-explainer: characters tinted by the
weight the predicting position gave them, heads as small multiples) and the sampling pipeline's bars."""

import html
from typing import List, Optional, Sequence

import torch

VISIBLE = {"\n": "⏎", " ": "␣", "\t": "⇥"}  # how invisible characters appear as bar labels
# the characters gr.HTML's templates (JS template strings, Handlebars) or the markup itself could read
ESCAPES = {"{": "&#123;", "}": "&#125;", "$": "&#36;"}
SMALL_CHARS = 64  # a small multiple shows at most the last this many characters read
MAX_SMALL_MAPS = 40  # past this many layer x head maps, only the chosen layer's heads get their own
TOP_SHOWN = 15  # characters per pipeline stage (the drawn one is added when it is not among them)
ATTENTION_JS = """
element.addEventListener('click', (event) => {
  const map = event.target.closest('[data-layer]');
  if (!map || !element.contains(map)) return;
  trigger('select', {layer: Number(map.dataset.layer), head: Number(map.dataset.head)});
});
"""


def escaped(char: str) -> str:
    """One character as safe gr.HTML content: markup and template characters escaped."""
    return "".join(ESCAPES.get(c, c) for c in html.escape(char))


def visible(char: str) -> str:
    return VISIBLE.get(char, char)


def _heat_text(chars: str, weights: Sequence[float], next_char: str, css_class: str, breaks: bool = True) -> str:
    """chars tinted by weights, then the character being predicted, outlined. The tint is
    sqrt(weight / strongest): a head's weights fall off steeply, and the square root keeps the
    second-rank characters visible beside the strongest. Without `breaks`, newlines show as ↵ only."""
    top = max(max(weights), 1e-12)
    spans = []
    for char, weight in zip(chars, weights):
        shown = escaped(char) if breaks or char != "\n" else ""
        newline = ' class="newline"' if char == "\n" else ""
        spans.append(f'<span{newline} style="--w:{(weight / top) ** 0.5:.3f}" title="{weight:.1%}">{shown}</span>')
    nxt = f'<span class="attn-next" title="the character being predicted">{escaped(visible(next_char))}</span>'
    return f'<div class="{css_class}">{"".join(spans)}{nxt}</div>'


def _name(layer: int, head: int, layers: int, heads: int) -> str:
    if layer == 0:
        return f"average of all {layers} layers x {heads} heads"
    return f"layer {layer}, " + (f"average of its {heads} heads" if head == 0 else f"head {head}")


def chosen_map(rows: torch.Tensor, layer: int, head: int) -> torch.Tensor:
    """rows (L, H, T): the last position's weights -> (T,) for layer/head (1-based; 0 = their average)."""
    picked = rows if layer == 0 else rows[layer - 1:layer]
    picked = picked if head == 0 or layer == 0 else picked[:, head - 1:head]
    return picked.mean(dim=(0, 1))


def attention_view(window: str, next_char: str, position: int, rows: torch.Tensor, layer: int, head: int) -> str:
    """The chosen map large over the whole window read, then every layer's heads as small multiples.

    window: the characters the model read (T of them), next_char: the one it was predicting,
    rows (L, H, T): each head's weights from the last character read (the one that predicts)."""
    layers, heads = rows.shape[:2]
    large = chosen_map(rows, layer, head).tolist()
    strongest = max(range(len(window)), key=lambda i: large[i])
    head_line = (f'<p class="attn-title">Writing character {position} (“{escaped(visible(next_char))}”), '
                 f'the model read the {len(window)} characters before it. <b>{_name(layer, head, layers, heads)}</b>: '
                 f'the darker, the more the last one looked there (the strongest, '
                 f'“{escaped(visible(window[strongest]))}”, got {large[strongest]:.0%}; hover for each).</p>')
    cells = [_small(window, next_char, rows.mean(dim=(0, 1)), 0, 0, "all layers", layer == 0)]
    every_head = layers * (heads + 1) <= MAX_SMALL_MAPS
    grid = [f'<div class="attn-row"><span class="attn-row-label">all</span>{cells[0]}</div>']
    for l in range(1, layers + 1):
        row = [_small(window, next_char, rows[l - 1].mean(0), l, 0, "avg", layer == l and head == 0)]
        if every_head or layer == l:
            row += [_small(window, next_char, rows[l - 1, h - 1], l, h, f"head {h}", layer == l and head == h)
                    for h in range(1, heads + 1)]
        grid.append(f'<div class="attn-row"><span class="attn-row-label">layer {l}</span>{"".join(row)}</div>')
    hint = ('<p class="attn-hint">Every layer and head, on the last {SMALL_CHARS} characters. Click a map to show it '
            'large. Each map is tinted relative to its own strongest weight.</p>').format(SMALL_CHARS=SMALL_CHARS)
    return (f'<div class="attn-view">{head_line}{_heat_text(window, large, next_char, "attn-large")}'
            f'{hint}<div class="attn-grid">{"".join(grid)}</div></div>')


def _small(window: str, next_char: str, weights: torch.Tensor, layer: int, head: int, label: str, chosen: bool) -> str:
    values = weights.tolist()[-SMALL_CHARS:]
    classes = "attn-map chosen" if chosen else "attn-map"
    return (f'<div class="{classes}" data-layer="{layer}" data-head="{head}" title="{label}: click to show it large">'
            f'<div class="attn-map-label">{label}</div>'
            f'{_heat_text(window[-SMALL_CHARS:], values, next_char, "attn-small", breaks=False)}</div>')


def no_attention_view(title: str) -> str:
    return (f'<p class="attn-none"><b>{escaped(title)} has no attention.</b> It reads one character at a time '
            'and carries a memory vector forward, so no weight links the character it writes to any earlier '
            'one: there is no heat map to show. The sampling pipeline below works the same for it.</p>')


def _percent(p: float) -> str:
    return "&lt;0.1%" if 0 < p < 0.0005 else f"{p:.1%}"


def _stage_titles(temperature: float, top_k: int, top_p: float) -> List[str]:
    return ["1. the model: softmax(logits)",
            "2. temperature 0: greedy" if temperature == 0 else f"2. ÷ temperature {temperature:g}",
            f"3. top-k {top_k}" if top_k else "3. top-k off",
            f"4. top-p {top_p:g}: drawn from" if top_p < 1 else "4. top-p off: drawn from"]


def pipeline_view(chars: str, logits: torch.Tensor, probs: torch.Tensor, drawn: str, position: int,
                  temperature: float, top_k: int, top_p: float) -> str:
    """Four bar charts side by side, the same characters in the same order (the model's TOP_SHOWN most
    likely, plus the drawn one): probs (4, V) are the stages, logits (V,) the model's raw scores."""
    order = torch.argsort(logits, descending=True)[:TOP_SHOWN].tolist()
    drawn_id: Optional[int] = chars.index(drawn) if drawn in chars else None
    if drawn_id is not None and drawn_id not in order:
        order.append(drawn_id)
    panels = []
    for stage, title in enumerate(_stage_titles(temperature, top_k, top_p)):
        rows = []
        for i in order:
            p = float(probs[stage, i])
            value = (f"{_percent(p)} <small>z {float(logits[i]):.1f}</small>" if stage == 0
                     else "cut" if p == 0 else _percent(p))
            classes = " ".join(c for c, on in (("drawn", i == drawn_id), ("cut", p == 0)) if on)
            rows.append(f'<div class="pipe-row {classes}"><span class="pipe-char">{escaped(visible(chars[i]))}</span>'
                        f'<span class="pipe-bar"><span style="width:{100 * p:.1f}%"></span></span>'
                        f'<span class="pipe-value">{value}</span></div>')
        left = int((probs[stage] > 0).sum())
        panels.append(f'<div class="pipe-stage"><div class="pipe-title">{title}</div>{"".join(rows)}'
                      f'<div class="pipe-foot">{left} of {len(chars)} characters can be drawn</div></div>')
    final = float(probs[-1, drawn_id]) if drawn_id is not None else 0.0
    model = float(probs[0, drawn_id]) if drawn_id is not None else 0.0
    summary = (f'<p class="pipe-summary">Character {position}, <b>“{escaped(visible(drawn))}”</b> (red), '
               f'had {model:.1%} from the model and <b>{final:.1%}</b> after the knobs (move them: this updates). '
               f'Bars: probability; z: the model\'s raw score (logit).</p>')
    return f'<div class="pipe-view">{summary}<div class="pipe-stages">{"".join(panels)}</div></div>'
