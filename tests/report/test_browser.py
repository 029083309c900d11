"""The HTML report in a real browser: headless Chromium loads it from disk without errors and every image shows.

A probe script is put at the top of a copy of the page: it records every error event (script
errors and resources that fail to load, caught in the capture phase) and, once the page has
loaded, each image's ``naturalWidth``; Chromium's ``--dump-dom`` prints the DOM with the probe's
findings. A screenshot checks that the page is not blank. Skips only when Chromium is absent.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_report_render import model_and_images  # noqa: E402

from katibsim.report.html import render_html  # noqa: E402

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")) if p and Path(p).exists()), None)

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  var t = e.target || {};
  window.__errors.push(t.tagName ? ("resource " + t.tagName + " " + (t.currentSrc || t.src || "").slice(0, 60)) : ("script " + e.message));
}, true);
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images).map(function (i) {
    return {title: i.title, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight};
  });
  var out = document.createElement("pre");
  out.id = "katibsim-probe";
  out.textContent = JSON.stringify({errors: window.__errors, images: imgs, title: document.title});
  document.body.appendChild(out);
});
</script>"""


def _chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (no /usr/bin/chromium or chromium on PATH; Debian package `chromium`, which .ci/run installs)")
def test_html_report_renders_in_chromium_with_every_image(tmp_path):
    m, images = model_and_images()
    page = render_html(m, images)
    probed = page.replace("<head>", "<head>" + PROBE, 1)
    assert probed != page
    html_file = tmp_path / "report.html"
    html_file.write_text(probed, encoding="utf-8")

    res = _chromium("--virtual-time-budget=10000", "--dump-dom", html_file.as_uri(), tmp=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    found = re.search(r'<pre id="katibsim-probe">(.*?)</pre>', res.stdout, flags=re.S)
    assert found, "the page did not finish loading: " + res.stdout[-500:]
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    assert probe["errors"] == []
    assert probe["title"] == "katibsim compare: demo"
    assert len(probe["images"]) == len(images) >= 5
    for img in probe["images"]:
        assert img["complete"] and img["w"] > 0 and img["h"] > 0, img
    assert {img["title"] for img in probe["images"]} == set(images)
    # the per-variant views are on the page and decode: history, importance, slice, parallel coordinates
    assert {"history.png", "importance.png", "slice.png", "parallel.png"} <= {img["title"] for img in probe["images"]}
    assert "<h2>Where the trials went</h2>" in res.stdout and "<h3>Parameter importance</h3>" in res.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (no /usr/bin/chromium or chromium on PATH; Debian package `chromium`, which .ci/run installs)")
def test_html_report_screenshot_is_not_blank(tmp_path):
    m, images = model_and_images()
    html_file = tmp_path / "report.html"
    html_file.write_text(render_html(m, images), encoding="utf-8")
    shot = tmp_path / "shot.png"
    res = _chromium(f"--screenshot={shot}", "--window-size=1200,1600", html_file.as_uri(), tmp=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as im:
        gray = im.convert("L")
        assert gray.size == (1200, 1600)
        lo, hi = gray.getextrema()
        assert hi - lo > 100  # text and figures, not an empty page
        dark = sum(gray.histogram()[:128])
        assert dark > 1000  # enough ink for headings, tables and plot lines
