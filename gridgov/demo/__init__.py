"""The seeded Jiaozuo demo: plausible wards, grids, model workers, incidents and studio sites."""

from gridgov.demo.build import DemoData, generate_demo
from gridgov.demo.persist import save_demo
from gridgov.demo.summary import summarize

__all__ = ["DemoData", "generate_demo", "save_demo", "summarize"]
