"""Per-city settings the reviewer maintains (省地联动)."""

from sqlalchemy import BigInteger, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Timestamped


class CitySetting(Timestamped, Base):
    __tablename__ = "city_settings"
    __table_args__ = (
        CheckConstraint("local_ratio_num >= 0 AND local_ratio_den > 0", name="ratio_valid"),
        CheckConstraint("local_cap_fen >= 0", name="cap_not_negative"),
    )

    city: Mapped[str] = mapped_column(String(20), primary_key=True)  # short form: 南京, 徐州 …
    region_override: Mapped[str | None] = mapped_column(String(10))
    # Comma-separated identity codes (kexiao,gaoqi,incubated,talent) that get local matching.
    local_identities: Mapped[str] = mapped_column(String(100), default="kexiao,gaoqi,incubated,talent")
    local_ratio_num: Mapped[int] = mapped_column(Integer)
    local_ratio_den: Mapped[int] = mapped_column(Integer)
    local_cap_fen: Mapped[int] = mapped_column(BigInteger)
    contact: Mapped[str] = mapped_column(String(200), default="")


class CacheGeneration(Base):
    """A token the database replaces, in the same transaction, whenever data behind cached pages changes
    (triggers of migration 0006). A worker keeps what it rendered under the token it read; a new token means
    a miss. Only the row 'catalog' exists: the services, shops and reference data a search page shows."""
    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)
