"""Service cards (macros.html service_card) for the search results, each rendered once per catalog state and
then shared by every query that finds that service: a search no one made before still reuses most of its cards."""
from flask import get_template_attribute
from markupsafe import Markup

from . import cache, queries


def service_cards(ids: list[int]) -> list[Markup]:
    return cache.rendered_each([("card", service_id) for service_id in ids], _render_cards)


def _render_cards(keys: list[tuple]) -> dict[tuple, Markup]:
    card = get_template_attribute("macros.html", "service_card")
    services = queries.card_services_by_id([service_id for _, service_id in keys])
    # A service gone between the search and this load shows no card (the catalog token has moved on with it).
    return {key: Markup(card(services[key[1]])) if key[1] in services else Markup("") for key in keys}
