"""The HTML pages (``show --html`` and ``evaluate --html``) opened in a real headless browser:
they must render (a non-blank screenshot with the page's highlight colours in it)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WHO_PAGE = ROOT / "examples" / "NCT04077684_who_ictrp_page.txt"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is required in CI (apt-get install -y chromium)")
    pytest.skip("no headless chromium on this machine (apt-get install -y chromium)")


def screenshot(html: Path, png: Path, profile: Path) -> None:
    cmd = [
        _browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1200,900", html.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert png.exists() and png.stat().st_size > 0, f"no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows (RGB or RGBA, 8 bit) of a PNG: enough for a screenshot."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unexpected PNG layout {header}"
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((x + p) & 255 for x, p in zip(line, prev, strict=True))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                up_left = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, prev[i], up_left)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i : i + 3]) for r in rows for i in range(0, stride, bpp)]


def _near(pixels: set[bytes], rgb: tuple[int, int, int], tol: int = 6) -> bool:
    return any(all(abs(p[k] - rgb[k]) <= tol for k in range(3)) for p in pixels)


@pytest.fixture(scope="module")
def nlp():
    from criteria_nlp import _default_nlp

    return _default_nlp()  # the pipeline has landed: failing to load it is a failure


@pytest.mark.browser
def test_show_page_renders_with_its_marks(nlp, tmp_path: Path):
    from criteria_nlp import structure_many
    from criteria_nlp.report import render_record

    (record,) = structure_many([WHO_PAGE], nlp=nlp)
    constraints = [c for crit in record.criteria for c in crit.constraints]
    assert constraints
    page = tmp_path / "show.html"
    page.write_text(render_record(record), encoding="utf-8")
    png = tmp_path / "show.png"
    screenshot(page, png, tmp_path / "profile")
    width, height, pixels = decode_png(png)
    distinct = set(pixels)
    assert (width, height) == (1200, 900)
    assert len(distinct) > 50, f"blank page? only {len(distinct)} colours"
    assert _near(distinct, (0xCF, 0xE3, 0xFF)) or _near(distinct, (0xFF, 0xE1, 0xB3)), "no constraint highlight"
    if any(c.repaired for c in constraints):
        assert _near(distinct, (0xFF, 0xE1, 0xB3)), "no repaired-operator highlight on screen"


@pytest.mark.browser
def test_evaluation_report_renders_its_charts(nlp, tmp_path: Path):
    from criteria_nlp.evaluation.runner import run_evaluation
    from criteria_nlp.report import render_evaluation_html

    lct = ROOT.parent / "shared" / "corpora" / "lct"
    corpora = [("lct", lct)] if lct.is_dir() else []
    report = run_evaluation(ROOT / "annotations", corpora, limit=15, nlp=nlp)
    scored = [t for t, sec in report["sections"].items() if "error" not in sec]
    assert scored, report["sections"]
    page = tmp_path / "report.html"
    page.write_text(render_evaluation_html(report), encoding="utf-8")
    png = tmp_path / "report.png"
    screenshot(page, png, tmp_path / "profile")
    _, _, pixels = decode_png(png)
    distinct = set(pixels)
    assert len(distinct) > 50, f"blank page? only {len(distinct)} colours"
    assert _near(distinct, (0x3B, 0x6E, 0xA5)), "no chart bars on screen"
