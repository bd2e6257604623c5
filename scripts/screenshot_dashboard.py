"""Regenerate the README's dashboard screenshot, ``docs/img/dashboard.png``.

    .venv/bin/python scripts/screenshot_dashboard.py [--out docs/img/dashboard.png]

Builds the quickstart's credit project (the example project after the training and
monitoring demos) in a temporary folder, serves it with ``cairn serve``, sends 40 predictions
through ``/v1/predict/credit``, signs in at ``/ui/login`` in headless chromium and saves the
Overview, the whole page 1280 pixels wide. Needs what the browser tests need: Selenium (the dev
extra) and Debian's chromium and chromium-driver (``scripts/services.sh browser`` installs
them); nothing is downloaded. Uses this checkout's code (``src/``) and the helpers of
``tests/browser``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.browser._browser import Browser, missing_reason  # noqa: E402
from tests.browser._site import TOKENS, build_project, send_traffic, server_env  # noqa: E402

from cairn.testing.servers import serving  # noqa: E402

MAX_BYTES = 300_000
"""The picture must stay small enough for the README."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "dashboard.png")
    args = parser.parse_args(argv)
    reason = missing_reason()
    if reason is not None:
        print(f"screenshot_dashboard: error: {reason}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        project = build_project(Path(tmp) / "credit")
        with serving(project, env=server_env()) as (url, _):
            send_traffic(url, "credit", 40)
            browser = Browser(url)
            try:
                browser.sign_in(TOKENS["viewer"][1])
                shown = browser.get("/ui/")
                if shown.status != 200 or shown.console:
                    print(f"screenshot_dashboard: error: the Overview: {shown}", file=sys.stderr)
                    return 1
                browser.screenshot(args.out)
            finally:
                browser.close()
    size = args.out.stat().st_size
    print(f"{args.out}: {size:,} bytes")
    if size > MAX_BYTES:
        print(f"screenshot_dashboard: error: larger than {MAX_BYTES:,} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
