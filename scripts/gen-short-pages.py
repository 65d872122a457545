#!/usr/bin/env python3
"""Many short pages for memory measurements (the README's Memory section).

    scripts/gen-short-pages.py N OUT           # N text files under OUT/sNN/dNNNN/
    scripts/gen-short-pages.py N OUT --jsonl   # N JSONL records (id, url, text) in the file OUT

Each page is a menu line, three paragraphs of 25-45 words drawn from one made-up word list (a
third of them common English stopwords) and a copyright line; a tenth of the pages copy one of
the last 1,000 with a word added. Pages go to 50 sites (folders s00-s49, or hosts in the URL),
500 files a folder. Deterministic: the same N gives the same pages.
"""
import json
import os
import random
import sys


def pages(n):
    rng = random.Random(7)
    syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'de', 'an', 'or', 'el', 'un', 'is', 'pa', 'qu']
    words = sorted({''.join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(30000)})
    stop = ['the', 'of', 'and', 'to', 'in', 'a', 'is', 'that', 'for', 'it', 'with', 'as', 'was', 'on']
    recent = []
    for i in range(n):
        if recent and rng.random() < 0.1:
            paragraphs = list(rng.choice(recent[-1000:]))
            j = rng.randrange(len(paragraphs))
            paragraphs[j] = paragraphs[j].replace(' ', ' new ', 1)
        else:
            paragraphs = []
            for _ in range(3):
                drawn = [rng.choice(stop) if rng.random() < 0.35 else rng.choice(words)
                         for _ in range(rng.randint(25, 45))]
                paragraphs.append(' '.join(drawn).capitalize() + '.')
        recent.append(paragraphs)
        if len(recent) > 2000:
            recent = recent[-1000:]
        site = i % 50
        text = 'Menu Home News Sport\n\n' + '\n\n'.join(paragraphs) + '\n\nCopyright Site %d\n' % site
        yield i, site, text


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != '--jsonl'):
        sys.exit(__doc__)
    n, out = int(sys.argv[1]), sys.argv[2]
    if len(sys.argv) == 4:
        with open(out, 'w') as f:
            for i, site, text in pages(n):
                record = {'id': f'p{i:07d}.txt', 'url': f'https://s{site:02d}.example.com/p{i:07d}.txt', 'text': text}
                f.write(json.dumps(record) + '\n')
        return
    for i, site, text in pages(n):
        folder = os.path.join(out, f's{site:02d}', f'd{i // 50 // 500:04d}')
        if (i // 50) % 500 == 0:
            os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f'p{i:07d}.txt'), 'w') as f:
            f.write(text)


if __name__ == '__main__':
    main()
