"""The map legend: a fixed box with a title, the plan, and one swatch per layer kind."""

from __future__ import annotations

from html import escape
from typing import Any

from gridgov.maps.colouring import PALETTE
from gridgov.maps.elements import Raw
from gridgov.maps.layers import CHANGED_ORANGE, STUDIO_PURPLE, UNCHANGED_GREY, UNCOVERED_RED
from gridgov.maps.labels import Lang, t

_CSS = """
<style>
.gridgov-legend { position: absolute; z-index: 1000; bottom: 28px; right: 10px; background: #fff;
  padding: 8px 10px; border-radius: 4px; box-shadow: 0 1px 5px rgba(0,0,0,.4);
  font: 13px/1.5 "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; max-width: 300px; }
.gridgov-legend h4 { margin: 0 0 4px; font-size: 14px; }
.gridgov-legend .row { display: flex; align-items: center; gap: 6px; }
.gridgov-legend .sw { display: inline-block; width: 18px; height: 12px; border: 1px solid #555; }
.gridgov-legend .hatch { background: repeating-linear-gradient(45deg, #d62728 0 3px, #fde0dd 3px 7px);
  border: 2px dashed #d62728; }
.gridgov-legend .line { display: inline-block; width: 18px; height: 0; border-top-width: 3px; }
.gridgov-legend .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; border: 2px solid #222; }
.gridgov-legend .heat { background: linear-gradient(90deg, blue, cyan, lime, yellow, red); border: 0; }
.gridgov-legend .plan { color: #555; margin-bottom: 4px; }
</style>
"""

Entry = tuple[str, str]  # (swatch HTML, label)


def swatch(kind: str) -> str:
    """The small HTML sample drawn before a legend label."""
    samples = {
        "territories": "".join(f"<span class='sw' style='background:{c};width:6px'></span>" for c in PALETTE[:3]),
        "uncovered": "<span class='sw hatch'></span>",
        "wards": "<span class='line' style='border-top:3px solid #333'></span>",
        "counties": "<span class='line' style='border-top:3px dashed #000'></span>",
        "homes": "<span class='dot' style='background:#8dd3c7'></span>",
        "studios": f"<span class='dot' style='border-color:{STUDIO_PURPLE};background:#fff'></span>",
        "heat": "<span class='sw heat'></span>",
        "changed": f"<span class='sw' style='background:{CHANGED_ORANGE}'></span>",
        "unchanged": f"<span class='sw' style='background:{UNCHANGED_GREY}'></span>",
        "uncovered_line": f"<span class='line' style='border-top:3px dashed {UNCOVERED_RED}'></span>",
    }
    return samples[kind]


def legend_html(title: str, subtitle: str, entries: list[Entry], lang: Lang) -> str:
    rows = "".join(f"<div class='row'>{sw}<span>{escape(label)}</span></div>" for sw, label in entries)
    return (
        f"{_CSS}<div class='gridgov-legend' role='note' aria-label='{escape(t('legend', lang))}'>"
        f"<h4>{escape(title)}</h4><div class='plan'>{escape(subtitle)}</div>{rows}</div>"
    )


def add_legend(m: Any, title: str, subtitle: str, entries: list[Entry], lang: Lang) -> None:
    m.get_root().html.add_child(Raw(legend_html(title, subtitle, entries, lang)), name="gridgov_legend")
