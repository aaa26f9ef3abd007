"""How much a patient's phone downloads for the largest leaflet: HTML, CSS and JavaScript,
as sent and compressed.

    .venv/bin/python bench/bench_page_weight.py

Production static files (collectstatic with hashed names; WhiteNoise's own .gz and .br files)
in a temporary folder, the real library from content/ in a throwaway SQLite database, and
requests through Django's test Client. WhiteNoise compresses static files ahead of time; the
page cache keeps each page gzipped (level 6, as here) and sends that to browsers that accept
it (procedures/caching.py). Budget: HTML + CSS + JS <= 100 KB before compression.
"""

import gzip
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import bench_workspace

BUDGET = 100 * 1024


def main():
    with bench_workspace("sqlite") as workspace:
        workspace.prepare(leaflets=0)
        workspace.use_in_this_process()
        import django

        django.setup()
        import brotli
        from django.test import Client

        from procedures.models import LeafletVersion
        from procedures.sections import SECTIONS

        versions = LeafletVersion.objects.live("en").select_related("procedure")
        largest = max(versions, key=lambda v: sum(len(getattr(v, s.html_field)) for s in SECTIONS))
        client = Client()
        url = largest.procedure.get_absolute_url()
        page = client.get(url)
        html = page.content
        text = html.decode()
        stylesheets = re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"[^>]*>', text)
        scripts = re.findall(r'<script[^>]*src="([^"]+)"', text)
        print(f"largest leaflet: {url} ({largest.procedure.resource_number} v{largest.number})")
        print(f"{'file':44} {'bytes':>8} {'gzip':>7} {'brotli':>7}  served as")
        rows = [("HTML " + url, html, gzip.compress(html, 6), brotli.compress(html), "gzip, page cache")]
        for asset in stylesheets + scripts:
            response = client.get(asset)
            body = b"".join(response.streaming_content)
            served = client.get(asset, HTTP_ACCEPT_ENCODING="gzip, br")
            encoding = served.get("Content-Encoding", "none")
            kind = "CSS " if asset.endswith(".css") else "JS  "
            rows.append(
                (
                    kind + asset,
                    body,
                    gzip.compress(body, 9),
                    brotli.compress(body),
                    f"{encoding} by WhiteNoise",
                )
            )
        totals = [0, 0, 0]
        for name, raw, gz, br, how in rows:
            print(f"{name:44} {len(raw):8d} {len(gz):7d} {len(br):7d}  {how}")
            totals = [totals[0] + len(raw), totals[1] + len(gz), totals[2] + len(br)]
        print(f"{'total':44} {totals[0]:8d} {totals[1]:7d} {totals[2]:7d}")
        print_only = [
            tag for tag in re.findall(r"<link[^>]*stylesheet[^>]*>", text) if 'media="print"' in tag
        ]
        print(f"scripts: {len(scripts)}; stylesheets: {len(stylesheets)} ({len(print_only)} for print only)")
        print(
            f"ratio: {totals[0] / BUDGET:.2f} of the 100 KB budget uncompressed "
            f"({'met' if totals[0] <= BUDGET else 'NOT met'}); gzip sends {totals[1] / totals[0]:.0%} "
            f"of the bytes, brotli {totals[2] / totals[0]:.0%}"
        )


if __name__ == "__main__":
    main()
