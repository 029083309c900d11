"""Markdown rendering of the report blocks (GitHub-flavoured; fit for a CI job summary).

Images are referenced by relative path (``image_prefix`` + file name); everything else is text,
so the page also reads well where images do not load (``$GITHUB_STEP_SUMMARY``).
"""

from __future__ import annotations

import html
import re
from typing import Any, Sequence

from katibsim.report.model import ReportModel
from katibsim.report.sections import Bullets, Code, Details, Heading, Image, Para, Table, blocks, index_blocks

__all__ = ["render_markdown", "render_index_markdown", "render_blocks"]


def _cell(text: str) -> str:
    # "<" before a letter, "/", "!" or "?" would open an HTML tag (Go's "<nil>" in a Katib message
    # would vanish, "<script>" would run); a comparison such as "< 0.1" stays as it is.
    text = re.sub(r"<(?=[A-Za-z/!?])", "&lt;", str(text))
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    # Longer than any run of backticks in the text, so printed output cannot close the block.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render_blocks(items: Sequence[Any], *, image_prefix: str = "") -> str:
    out: list[str] = []
    for b in items:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}")
        elif isinstance(b, Para):
            out.append(b.text)
        elif isinstance(b, Table):
            lines = ["| " + " | ".join(_cell(h) for h in b.header) + " |", "|" + "---|" * len(b.header)]
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b.rows]
            out.append("\n".join(lines))
        elif isinstance(b, Image):
            out.append(f"![{b.alt}]({image_prefix}{b.name})")
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {x}" for x in b.items))
        elif isinstance(b, Code):
            fence = _fence(b.text)
            out.append(f"{fence}\n{b.text}\n{fence}")
        elif isinstance(b, Details):
            inner = render_blocks(b.body, image_prefix=image_prefix)
            # The summary is raw HTML in Markdown: escape it (trial names and messages are data).
            out.append(f"<details><summary>{html.escape(b.summary, quote=False)}</summary>\n\n{inner}\n\n</details>")
        else:  # pragma: no cover - every block type is handled above
            raise TypeError(f"unknown block {b!r}")
    return "\n\n".join(out) + "\n"


def render_markdown(m: ReportModel, *, image_prefix: str = "") -> str:
    """The report of one scenario as Markdown."""
    return render_blocks(blocks(m), image_prefix=image_prefix)


def render_index_markdown(models: Sequence[Any]) -> str:
    """The summary over several scenarios as Markdown."""
    return render_blocks(index_blocks(models))
