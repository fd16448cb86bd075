"""Deterministic demo catalog: the seed document's providers and services, then generated ones up to any size."""
from .accounts import DEMO_PASSWORD
from .seed import seed_demo

__all__ = ["DEMO_PASSWORD", "seed_demo"]
