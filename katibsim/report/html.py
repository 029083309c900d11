"""A self-contained HTML page of the report: inline CSS, every image embedded as a base64 data URI.

The page opens from disk, needs no network and no script; it renders the same blocks as the
Markdown report (:mod:`katibsim.report.sections`).
"""

from __future__ import annotations

import base64
import html
from typing import Any, Mapping, Sequence

from katibsim.report.model import ReportModel
from katibsim.report.sections import Bullets, Code, Details, Heading, Image, Para, Table, blocks, index_blocks

__all__ = ["render_html", "render_index_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#1b1f23;line-height:1.45}
h1{font-size:1.6em;border-bottom:1px solid #ddd;padding-bottom:.3em}h2{margin-top:1.6em;border-bottom:1px solid #eee}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}tr:nth-child(even) td{background:#fbfcfd}
img{max-width:100%;height:auto;display:block;margin:.8em 0;border:1px solid #eee}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto}details{margin:.6em 0}summary{cursor:pointer;color:#0969da}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
"""


def _text(s: str) -> str:
    # Colour badges instead of emoji: emoji fonts are often missing (headless browsers, servers).
    t = html.escape(str(s))
    t = t.replace("✅ PASS", '<span class="pass">✔ PASS</span>').replace("❌ FAIL", '<span class="fail">✘ FAIL</span>')
    return t.replace("⚠️", '<span class="fail">⚠</span>')


def _img(b: Image, images: Mapping[str, bytes]) -> str:
    data = images.get(b.name)
    if data is None:
        return f"<p><em>(figure {html.escape(b.name)} not rendered)</em></p>"
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<figure><img src="{uri}" alt="{html.escape(b.alt)}" title="{html.escape(b.name)}"></figure>'


def _render(items: Sequence[Any], images: Mapping[str, bytes]) -> str:
    out: list[str] = []
    for b in items:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{_text(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f"<p>{_text(b.text)}</p>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{_text(h)}</th>" for h in b.header)
            body = "".join("<tr>" + "".join(f"<td>{_text(c)}</td>" for c in row) + "</tr>" for row in b.rows)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(b, Image):
            out.append(_img(b, images))
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{_text(x)}</li>" for x in b.items) + "</ul>")
        elif isinstance(b, Code):
            out.append(f"<pre><code>{html.escape(b.text)}</code></pre>")
        elif isinstance(b, Details):
            out.append(f"<details><summary>{_text(b.summary)}</summary>{_render(b.body, images)}</details>")
        else:  # pragma: no cover
            raise TypeError(f"unknown block {b!r}")
    return "\n".join(out)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def render_html(m: ReportModel, images: Mapping[str, bytes]) -> str:
    """The report of one scenario as one HTML page; ``images`` from :func:`katibsim.report.png.render_png`."""
    return _page(f"katibsim compare: {m.scenario}", _render(blocks(m), images))


def render_index_html(models: Sequence[Any]) -> str:
    """The summary over several scenarios; links point at each scenario's ``report.html``."""
    body = _render(index_blocks(models), {})
    for m in models:
        for ext in ("html", "md"):
            ref = f"{m.scenario}/report.{ext}"
            body = body.replace(f"<td>{html.escape(ref)}</td>", f'<td><a href="{html.escape(ref)}">{html.escape(ref)}</a></td>')
    return _page("katibsim compare", body)
