"""Deterministic timestamps, all before the seed briefing (stored naive UTC like every DateTime column)."""
import random
from datetime import datetime, timedelta

BASE_TIME = datetime(2025, 3, 27, 1, 0)  # 2025-03-27 09:00 Asia/Shanghai


def moment_between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds()) + 1))


def days_before(rng: random.Random, end: datetime, low: int, high: int) -> datetime:
    return end - timedelta(days=rng.randint(low, high), seconds=rng.randrange(86_400))
