"""The tables the recipes write to: bookings, and an audit log in a database of its own."""

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The app's database."""


class AuditBase(DeclarativeBase):
    """The audit database."""


class Booking(Base):
    """A booked room."""

    __tablename__ = "bookings"

    room: Mapped[str] = mapped_column(String(40), primary_key=True)


class AuditEntry(AuditBase):
    """What happened, kept in the audit database."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(200))
