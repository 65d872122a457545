#!/usr/bin/env python3
"""Extends the shipped stopword lists that cover too little running text.

A block's stopword share is compared with one threshold for every language, so every list
should cover about the same share of ordinary text. The English, German, French and Spanish
lists cover about 42% (by wordfreq's word frequencies); some others covered 14-30%, and their
prose fell under the threshold. This adds words of stopwords-iso (MIT licence), most frequent
first, to each list below TARGET until it reaches TARGET or CAP words. Lists at or above
TARGET are left as they are, so running it again changes nothing.

    pip install wordfreq stopwordsiso      # dev time only: nothing of wordfreq is shipped
    python3 scripts/extend-stopwords.py src/page/data/stopwords.txt > /tmp/s && mv /tmp/s src/page/data/stopwords.txt
"""
import sys
import unicodedata

import stopwordsiso
import wordfreq

TARGET = 0.37
CAP = 400
ISO_639_1 = {"eng": "en", "deu": "de", "fra": "fr", "spa": "es", "ita": "it", "por": "pt",
             "nld": "nl", "pol": "pl", "rus": "ru", "ukr": "uk", "ces": "cs", "swe": "sv",
             "dan": "da", "nob": "nb", "fin": "fi", "tur": "tr", "ron": "ro", "hun": "hu",
             "ind": "id", "bul": "bg", "ara": "ar", "fas": "fa", "hin": "hi", "vie": "vi"}
# stopwords-iso names Norwegian (Bokmål) "no", where wordfreq says "nb".
STOPWORDS_ISO = {"nb": "no"}
def is_word(word):
    """A word as textsift's tokenizer sees one: letters (Indic vowel signs included), digits,
    apostrophes and hyphens, starting with a letter. A virama splits words there, so words
    with one are left out."""
    if not word or not word[0].isalpha():
        return False
    for c in word:
        if "VIRAMA" in unicodedata.name(c, "") or "HASANT" in unicodedata.name(c, ""):
            return False
        if not (c.isalnum() or c in "'’-" or unicodedata.category(c).startswith("M")):
            return False
    return True


def main(path):
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or ":" not in line:
            print(line, end="")
            continue
        code, words = line.split(":", 1)
        code, words = code.strip(), words.split()
        lang = ISO_639_1[code]
        have = set(words)
        coverage = sum(wordfreq.word_frequency(w, lang) for w in have)
        before = coverage
        candidates = sorted({w.lower() for w in stopwordsiso.stopwords(STOPWORDS_ISO.get(lang, lang))},
                            key=lambda w: (-wordfreq.word_frequency(w, lang), w))
        for word in candidates:
            if coverage >= TARGET or len(have) >= CAP:
                break
            frequency = wordfreq.word_frequency(word, lang)
            if word in have or not is_word(word) or frequency == 0:
                continue
            have.add(word)
            words.append(word)
            coverage += frequency
        print(f"{code}: {' '.join(words)}")
        print(f"{code}: {len(words)} words, coverage {before:.3f} -> {coverage:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
