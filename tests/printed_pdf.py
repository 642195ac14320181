"""Read back a PDF that LibreOffice printed: the size of every piece of text on each page, and its words.

Text sizes come from the pages' own drawing instructions (`Tf`, scaled by `cm` and `Tm`), so they are
the sizes on paper, in points. Words and their boxes come from poppler (`pdftotext -bbox`).
LibreOffice writes plain objects (no object streams) and its page contents Flate-compressed, which is
all this reader handles.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*)endstream", re.S)
_TOKEN = re.compile(
    rb"\((?:\\.|[^\\()])*\)"  # a literal string
    rb"|<<|>>|<[0-9A-Fa-f\s]*>"  # a dictionary's brackets, a hex string
    rb"|[\[\]]|/[^\s/\[\]()<>{}%]+"  # an array's brackets, a name
    rb"|[-+]?(?:\d+\.?\d*|\.\d+)"  # a number
    rb"|[A-Za-z'\"*][A-Za-z0-9*]*"  # an operator
)
_SHOW = {b"Tj", b"TJ", b"'", b'"'}
Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _times(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def _page_contents(pdf: bytes) -> list[bytes]:
    """Each page's content stream, decompressed, in page order."""
    objects = {int(m.group(1)): m.group(2) for m in _OBJECT.finditer(pdf)}

    def refs(body: bytes, key: bytes) -> list[int]:
        found = re.search(rb"/" + key + rb"\s*(\[[^\]]*\]|\d+ 0 R)", body)
        return [int(n) for n in re.findall(rb"(\d+) 0 R", found.group(1))] if found else []

    def pages(number: int) -> list[int]:
        body = objects[number]
        return [p for kid in refs(body, b"Kids") for p in pages(kid)] if b"/Kids" in body else [number]

    (root,) = [n for n, body in objects.items() if b"/Type/Pages" in body and b"/Parent" not in body]
    contents = []
    for page in pages(root):
        streams = [_STREAM.search(objects[n]) for n in refs(objects[page], b"Contents")]
        contents.append(b"\n".join(zlib.decompress(s.group(1)) for s in streams if s))
    return contents


def _text_sizes(content: bytes) -> list[float]:
    """The size on paper, in points, of each text the content stream draws."""
    sizes: list[float] = []
    ctm, saved, text, font = _IDENTITY, [], _IDENTITY, 0.0
    operands: list[bytes] = []
    for token in _TOKEN.findall(content):
        if not token[:1].isalpha() and token[:1] not in (b"'", b'"'):
            operands.append(token)
            continue
        numbers = [float(o) for o in operands if re.fullmatch(rb"[-+]?[\d.]+", o)]
        if token == b"q":
            saved.append(ctm)
        elif token == b"Q":
            ctm = saved.pop()
        elif token == b"cm":
            ctm = _times(tuple(numbers[-6:]), ctm)  # type: ignore[arg-type]
        elif token == b"BT":
            text = _IDENTITY
        elif token == b"Tm":
            text = tuple(numbers[-6:])  # type: ignore[assignment]
        elif token == b"Tf":
            font = numbers[-1]
        elif token in _SHOW:
            a, b, c, d, _, _ = _times(text, ctm)
            sizes.append(font * math.sqrt(abs(a * d - b * c)))
        operands = []
    return sizes


def text_sizes(pdf: Path) -> list[list[float]]:
    """For each page of `pdf`, the size in points of every text drawn on it."""
    return [_text_sizes(content) for content in _page_contents(pdf.read_bytes())]


@dataclass(frozen=True)
class Word:
    """A word on a page and its box, in points from the page's top left corner."""

    text: str
    left: float
    top: float
    right: float
    bottom: float


def page_words(pdf: Path) -> list[list[Word]]:
    """The words of each page of `pdf`, as poppler reads them."""
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None
    xhtml = subprocess.run(
        [pdftotext, "-bbox", str(pdf), "-"], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    namespace = "{http://www.w3.org/1999/xhtml}"
    root = ElementTree.fromstring(xhtml)  # noqa: S314 - poppler's output of our own file
    return [
        [
            Word(
                word.text or "",
                *(float(word.get(edge, "0")) for edge in ("xMin", "yMin", "xMax", "yMax")),
            )
            for word in page.iter(f"{namespace}word")
        ]
        for page in root.iter(f"{namespace}page")
    ]
