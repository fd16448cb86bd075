"""A provider's rating as the shop page and the reviewer show it: the average score and how many ratings."""
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from sqlalchemy import func, select

from ..extensions import db
from ..models import Rating

ONE_DECIMAL = Decimal("0.1")


class ShopRating(NamedTuple):
    average: Decimal | None     # one decimal, e.g. Decimal("4.5"); None before the first rating
    count: int


def ratings_for(provider_ids: Iterable[int]) -> dict[int, ShopRating]:
    """Every listed provider's rating, in one grouped query."""
    ratings = {provider_id: ShopRating(None, 0) for provider_id in provider_ids}
    if not ratings:
        return ratings
    rows = db.session.execute(select(Rating.provider_id, func.sum(Rating.score), func.count(Rating.id))
                              .where(Rating.provider_id.in_(list(ratings))).group_by(Rating.provider_id))
    for provider_id, total, count in rows:
        # Exact decimal arithmetic: the average is rounded half up, as people round.
        ratings[provider_id] = ShopRating((Decimal(total) / count).quantize(ONE_DECIMAL, ROUND_HALF_UP), count)
    return ratings


def shop_rating(provider_id: int) -> ShopRating:
    """(average, count) of one provider; a template global for the shop page."""
    return ratings_for([provider_id])[provider_id]
