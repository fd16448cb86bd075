"""Who may read a stored file. Public: the images of listed services of open shops, of open shops'
instruments, and open shops' logos. Otherwise the owner, an approved reviewer, or any rule another
area registers, e.g. the provider of an order reading its buyer's materials:

    @uploads.access.register
    def provider_reads_order_materials(user, stored_file) -> bool: ...
"""
from collections.abc import Callable

from sqlalchemy import or_, select

from ..extensions import db
from ..models import Instrument, InstrumentImage, Provider, Service, ServiceImage, ServiceStatus, ShopStatus, StoredFile

Rule = Callable[[object, StoredFile], bool]
_rules: list[Rule] = []


def register(rule: Rule) -> Rule:
    """Add `rule(user, stored_file) -> bool` (True grants reading); usable as a decorator."""
    _rules.append(rule)
    return rule


def is_owner(user, stored: StoredFile) -> bool:
    return user.is_authenticated and stored.owner_id == user.id


def is_reviewer(user, _stored: StoredFile) -> bool:
    return user.is_authenticated and user.is_reviewer


def granted(user, stored: StoredFile) -> bool:
    """Personal access (owner, reviewer, registered rules), whether or not the file is public."""
    return any(rule(user, stored) for rule in (is_owner, is_reviewer, *_rules))


def is_public(stored: StoredFile) -> bool:
    open_shop = Provider.status == ShopStatus.OPEN
    listed = (select(Service.id).join(Provider, Service.provider_id == Provider.id)
              .where(Service.status == ServiceStatus.LISTED, open_shop))
    referenced = (
        listed.where(Service.display_image_id == stored.id),
        listed.join(ServiceImage, ServiceImage.service_id == Service.id).where(ServiceImage.file_id == stored.id),
        select(InstrumentImage.id).join(Instrument, InstrumentImage.instrument_id == Instrument.id)
        .join(Provider, Instrument.provider_id == Provider.id).where(InstrumentImage.file_id == stored.id, open_shop),
        select(Provider.id).where(Provider.logo_file_id == stored.id, open_shop),
    )
    return bool(db.session.scalar(select(or_(*(query.exists() for query in referenced)))))


def may_read(user, stored: StoredFile) -> bool:
    return granted(user, stored) or is_public(stored)
