"""Order numbers: CXQ / ORD + the China date + a daily sequence counted in the database, unique even when
checkouts run at the same moment."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db
from marketplace.models import Order, OrderNumberCounter, china_today
from marketplace.orders.numbers import next_order_no

from .conftest import run_at_once

TODAY = china_today()


def test_voucher_and_other_orders_count_each_their_own_daily_sequence(app):
    numbers = [next_order_no(True), next_order_no(True), next_order_no(False)]
    db.session.commit()
    assert numbers == [f"CXQ{TODAY:%Y%m%d}0001", f"CXQ{TODAY:%Y%m%d}0002", f"ORD{TODAY:%Y%m%d}0001"]


def test_a_new_day_starts_its_sequence_again(app):
    db.session.add(OrderNumberCounter(prefix="CXQ", day=TODAY - timedelta(days=1), last_value=3178))
    db.session.commit()
    assert next_order_no(True) == f"CXQ{TODAY:%Y%m%d}0001"


def test_after_9999_orders_in_a_day_the_sequence_widens_instead_of_failing(app):
    db.session.add(OrderNumberCounter(prefix="CXQ", day=TODAY, last_value=9998))
    db.session.commit()
    assert [next_order_no(True), next_order_no(True)] == [f"CXQ{TODAY:%Y%m%d}9999", f"CXQ{TODAY:%Y%m%d}10000"]


def test_numbers_taken_at_the_same_moment_never_collide(app):
    threads, per_thread = 8, 10
    taken = []

    def take():
        for _ in range(per_thread):
            number = next_order_no(True)
            db.session.commit()
            taken.append(number)

    failures = run_at_once(app, take, threads)
    assert failures == []
    assert len(taken) == len(set(taken)) == threads * per_thread
    assert sorted(int(n[-4:]) for n in taken) == list(range(1, threads * per_thread + 1))
    assert all(re.fullmatch(rf"CXQ{TODAY:%Y%m%d}\d{{4}}", n) for n in taken)


def test_the_database_refuses_a_second_order_with_the_same_number(make, listed_service):
    buyer = make.enterprise()
    make.order(buyer, listed_service, order_no="CXQ202408203178")
    with pytest.raises(IntegrityError):
        make.order(buyer, listed_service, order_no="CXQ202408203178")
    db.session.rollback()
    assert db.session.scalars(select(Order.order_no)).all() == ["CXQ202408203178"]
