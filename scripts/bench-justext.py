#!/usr/bin/env python3
"""Times jusText on the same page texts textsift reads, for the README's speed table.

Each page's lines become <p> paragraphs (jusText needs HTML; this is the "jusText on the text"
setting of DESIGN.md), then justext.justext(html, English stoplist) runs on one core.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install justext lxml_html_clean
    /tmp/venv/bin/python scripts/bench-justext.py CORPUS_DIR [MAX_PAGES]
"""
import html
import pathlib
import sys
import time

import justext

root = pathlib.Path(sys.argv[1])
limit = int(sys.argv[2]) if len(sys.argv) > 2 else 500
paths = sorted(root.rglob("*.txt"))[:limit]
texts = [p.read_bytes().decode("utf-8", "replace") for p in paths]
pages = ["<html><body>" + "".join(f"<p>{html.escape(l)}</p>" for l in t.split("\n") if l.strip()) + "</body></html>" for t in texts]
stoplist = justext.get_stoplist("English")
size = sum(len(t.encode("utf-8")) for t in texts)
start = time.perf_counter()
for page in pages:
    justext.justext(page, stoplist)
elapsed = time.perf_counter() - start
print(f"jusText: {len(pages)} pages, {size / 1e6:.1f} MB of text in {elapsed:.2f} s: {size / 1e6 / elapsed:.2f} MB/s (1 core)")
