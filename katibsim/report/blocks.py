"""The renderer-neutral blocks a report is made of (headings, paragraphs, tables, images, ...):
the sections modules build them, Markdown and HTML render them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Image:
    name: str
    alt: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Details:
    summary: str
    body: tuple[Any, ...] = field(default_factory=tuple)


Block = Heading | Para | Table | Image | Bullets | Code | Details
