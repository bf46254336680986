#!/usr/bin/python3
"""Generates extra_golden.jsonl: BERT tokenizations of hard Unicode inputs.

An independent Python re-implementation of Hugging Face's BertNormalizer
(huggingface/tokenizers normalizers/bert.rs), BertPreTokenizer, added-token
split and WordPiece, run on the bert-base-uncased vocabulary. Each case pins
the normalized text written out by hand; the script fails if its own
normalizer disagrees, so the ids/tokens rest on hand-checked normalization.

Usage (from this folder): /usr/bin/python3 extra_cases.py \
    ../../../../shared/fixtures/bert-base-uncased-tokenizer.json > extra_golden.jsonl
"""
import json
import string
import sys
import unicodedata

# (text, normalized text written by hand; None where special tokens split it)
CASES = [
    ("Café Déjà vu", "cafe deja vu"),
    ("hello\u00a0world", "hello world"),
    ("hello\u3000world", "hello world"),
    ("我爱你", " 我  爱  你 "),
    ("a\u0000b\u0007c\ufffdd", "abcd"),
    ("I love it \U0001F60D\U0001F389!", "i love it \U0001F60D\U0001F389!"),
    ("e\u200dmoji", "emoji"),
    ("a\x0bb a\x0cb a\x85b", "ab ab ab"),
    ("a\u2028b\u2029c", "a b c"),
    ("x\ue000y", "xy"),
    ("a\u0378 b", "a\u0378 b"),
    ("e\u0301te", "ete"),
    ("ΟΔΟΣ", "οδοσ"),
    ("\ufb01ne", "\ufb01ne"),
    ("ＡＢＣ", "ａｂｃ"),
    ("한국어", "\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165"),
    ("ですが", "てすか"),
    ("a\U0002B820b a\U0002B920b", "a\U0002B820b a \U0002B920 b"),
    ("naïve\tcoöperate\r\n", "naive cooperate  "),
    ("co\u00adop \ufeffhello a\u180eb", "coop hello ab"),
    ("«bonjour»—ok…", "«bonjour»—ok…"),
    ("$5 + 3 = 8 © €5", "$5 + 3 = 8 © €5"),
    ("hello [MASK] world", None),
    ("x[MASK]y [mask] [CLS][SEP]", None),
    ("[PAD]", None),
]

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def is_control(c):
    if c in "\t\n\r":
        return False
    return unicodedata.category(c) in ("Cc", "Cf", "Co")


def is_chinese(c):
    cp = ord(c)
    return any(lo <= cp <= hi for lo, hi in [
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
        (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF),
        (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)])


def normalize(text):
    out = []
    for c in text:
        if ord(c) == 0 or ord(c) == 0xFFFD or is_control(c):
            continue
        out.append(" " if c.isspace() else c)
    padded = []
    for c in out:
        padded.extend([" ", c, " "] if is_chinese(c) else [c])
    s = unicodedata.normalize("NFD", "".join(padded))
    s = "".join(c for c in s if unicodedata.category(c) != "Mn")
    return "".join(c.lower() for c in s)  # char by char: no final sigma


def pre_tokenize(s):
    words, cur = [], ""
    for c in s:
        if c.isspace():
            if cur:
                words.append(cur)
            cur = ""
        elif c in string.punctuation or unicodedata.category(c).startswith("P"):
            if cur:
                words.append(cur)
            cur = ""
            words.append(c)
        else:
            cur += c
    if cur:
        words.append(cur)
    return words


def wordpiece(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            sub = word[start:end] if start == 0 else "##" + word[start:end]
            if sub in vocab:
                break
            end -= 1
        if end == start:
            return ["[UNK]"]
        pieces.append(sub)
        start = end
    return pieces


def split_specials(text):
    segs, start, i = [], 0, 0
    while i < len(text):
        hit = max((s for s in SPECIALS if text.startswith(s, i)), key=len, default=None)
        if hit is None:
            i += 1
            continue
        if start < i:
            segs.append((text[start:i], False))
        segs.append((hit, True))
        i += len(hit)
        start = i
    if start < len(text):
        segs.append((text[start:], False))
    return segs


def main():
    vocab = json.load(open(sys.argv[1], encoding="utf-8"))["model"]["vocab"]
    for text, want in CASES:
        if want is not None:
            got = normalize(text)
            assert got == want, (text, got, want)
        tokens = ["[CLS]"]
        for seg, special in split_specials(text):
            if special:
                tokens.append(seg)
                continue
            for w in pre_tokenize(normalize(seg)):
                tokens.extend(wordpiece(w, vocab))
        tokens.append("[SEP]")
        print(json.dumps({"text": text, "normalized": want,
                          "ids": [vocab[t] for t in tokens], "tokens": tokens},
                         ensure_ascii=True))


if __name__ == "__main__":
    main()
