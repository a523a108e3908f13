"""Screenshots of the demo page, one per tab: docs/demo_<tab>.png (each under 150 KB).

Starts ``autoreg demo`` in this process with the shipped models and example inputs (an MNIST
test digit, brick.png and a LibriSpeech clip from ../shared/data), runs each tab once in a
headless Chromium through Playwright, and saves the page. Run by hand, not in CI:

    pip install playwright            # the Python package; the browser is the system's
    apt-get install -y chromium       # Debian; or pass --chromium PATH
    python experiments/demo_screenshots.py [--out docs] [--chromium /usr/bin/chromium]
    python experiments/demo_screenshots.py --tabs texture complete   # only these
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
TABS = ("sample", "complete", "likelihood", "texture", "vocoder")
BUTTONS = {  # the button that runs each tab
    "sample": "Sample",
    "complete": "Complete",
    "likelihood": "Score",
    "texture": "Synthesise",
    "vocoder": "Resynthesise",
}
BEFORE = {"complete": "show the image on the mask canvas"}  # clicked after the example
MAX_BYTES = 150_000
WIDTH = 1100  # browser viewport, CSS pixels


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def example_inputs(folder: Path) -> dict:
    """An MNIST test digit (upscaled to the drawing canvas), a texture and a speech clip."""
    with np.load(SHARED / "mnist.npz") as data:
        digit = np.asarray(data["x_test"][0], np.uint8)
    digit_path = folder / "digit.png"
    Image.fromarray(digit.repeat(10, 0).repeat(10, 1)).save(digit_path)
    return {
        "digit": digit_path,
        "texture": SHARED / "images" / "brick.png",
        "speech": SHARED / "audio" / "librispeech-198-209-0000.ogg",
    }


def small_png(png: bytes, path: Path) -> int:
    """Save a screenshot as a palette PNG under ``MAX_BYTES`` (fewer colours, then smaller)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colours, width in ((128, image.width), (64, 900), (32, 800), (32, 640)):
        shrunk = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
        buffer = io.BytesIO()
        shrunk.quantize(colours, dither=Image.Dither.NONE).save(buffer, "PNG", optimize=True)
        if buffer.tell() <= MAX_BYTES:
            break
    path.write_bytes(buffer.getvalue())
    return buffer.tell()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder of the PNGs")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per tab")
    parser.add_argument("--tabs", nargs="+", choices=TABS, default=list(TABS), help="tabs to shoot")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from autoreg.demo import DemoModels, launch

    out = Path(args.out)
    with tempfile.TemporaryDirectory() as scratch:
        examples = example_inputs(Path(scratch))
        port = free_port()
        page_app = launch(
            DemoModels.shipped(), port=port, prevent_thread_lock=True, quiet=True,
            examples=examples,
        )  # fmt: skip
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, args=["--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": WIDTH, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/")
                for tab in args.tabs:
                    shoot(page, tab, out / f"demo_{tab}.png", args.timeout)
                browser.close()
        finally:
            page_app.close()


def shoot(page, tab: str, path: Path, timeout: float) -> None:
    """Open ``tab``, pick its example, run it, wait for the result, save the screenshot."""
    page.get_by_role("tab", name=tab.capitalize()).click()
    panel = page.locator(".tabitem:visible").first
    example = panel.locator(".gallery-item, button.gallery, table.gr-examples td, .example")
    if example.count():
        example.first.click()
        page.wait_for_timeout(1500)
    if tab in BEFORE:
        panel.get_by_role("button", name=BEFORE[tab]).click()
        page.wait_for_timeout(1500)
    start = time.perf_counter()
    panel.get_by_role("button", name=BUTTONS[tab], exact=True).click()
    page.wait_for_timeout(1000)
    page.wait_for_function(
        '() => !document.querySelector(\'.tabitem:not([style*="none"]) .progress-text, '
        '.tabitem:not([style*="none"]) .eta-bar\')',
        timeout=timeout * 1000,
    )
    page.wait_for_timeout(1000)
    size = small_png(page.screenshot(full_page=True), path)
    print(f"{path}: {size / 1000:.0f} KB, {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
