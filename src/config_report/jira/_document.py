"""A tiny rich-text model for ticket bodies, rendered as ADF (Cloud, REST v3) or wiki text (Data Center).

The ticket text is written once against this model; each flavor gets its own rendering, so the words
cannot drift apart between Cloud and Data Center.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Wiki markup in AWS names and error details must stay text. Brackets, braces, pipes and backslashes
# always act; effect characters (*bold*, -strike-, !image!, ...) only at a word's edge, so "sg-0a1b"
# and "2026-W48" stay readable while "-2" or "!http://x/y.png!" are defused.
_WHITESPACE = re.compile(r"\s+")
_WIKI_SPECIAL = re.compile(r"[\\\[\]{}|]|(?<![A-Za-z0-9])[*_^~+?!#-]|[*_^~+?!#-](?![A-Za-z0-9])")


@dataclass(frozen=True, slots=True)
class Text:
    """Plain text, optionally bold."""

    text: str
    strong: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    """A hyperlink."""

    text: str
    href: str


Inline = Text | Link


@dataclass(frozen=True, slots=True)
class Heading:
    """A section title."""

    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A run of inline pieces."""

    parts: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class BulletList:
    """A list whose items are runs of inline pieces."""

    items: tuple[tuple[Inline, ...], ...]


Block = Heading | Paragraph | BulletList


@dataclass(frozen=True, slots=True)
class Document:
    """A ticket description or comment."""

    blocks: tuple[Block, ...]


def to_adf(document: Document) -> dict[str, object]:
    """Atlassian Document Format, as Jira Cloud's REST v3 requires for descriptions and comments."""
    return {"type": "doc", "version": 1, "content": [_adf_block(block) for block in document.blocks]}


def _adf_block(block: Block) -> dict[str, object]:
    if isinstance(block, Heading):
        return {"type": "heading", "attrs": {"level": 3}, "content": [_adf_inline(Text(block.text))]}
    if isinstance(block, Paragraph):
        return _adf_paragraph(block.parts)
    return {
        "type": "bulletList",
        "content": [{"type": "listItem", "content": [_adf_paragraph(item)]} for item in block.items],
    }


def _adf_paragraph(parts: tuple[Inline, ...]) -> dict[str, object]:
    # ADF rejects empty text nodes, so empty pieces are left out.
    return {"type": "paragraph", "content": [_adf_inline(part) for part in parts if part.text]}


def _adf_inline(part: Inline) -> dict[str, object]:
    node: dict[str, object] = {"type": "text", "text": part.text}
    if isinstance(part, Link):
        node["marks"] = [{"type": "link", "attrs": {"href": part.href}}]
    elif part.strong:
        node["marks"] = [{"type": "strong"}]
    return node


def to_wiki(document: Document) -> str:
    """Jira wiki markup, as Jira Data Center's REST v2 expects for descriptions and comments."""
    return "\n\n".join(_wiki_block(block) for block in document.blocks)


def _wiki_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"h3. {_wiki_escape(block.text)}"
    if isinstance(block, Paragraph):
        return _wiki_inlines(block.parts)
    return "\n".join(f"* {_wiki_inlines(item)}" for item in block.items)


def _wiki_inlines(parts: tuple[Inline, ...]) -> str:
    return "".join(_wiki_inline(part) for part in parts if part.text)


def _wiki_inline(part: Inline) -> str:
    if isinstance(part, Link):
        # Inside a link the label may not contain '|' or ']' even escaped; the URL is ours, not AWS's.
        label = part.text.replace("|", "/").replace("]", ")").replace("[", "(")
        return f"[{label}|{part.href}]"
    text = _wiki_escape(part.text)
    if not part.strong:
        return text
    # Wiki bold only closes against a non-space: keep surrounding spaces outside the asterisks.
    core = text.strip()
    return text[: len(text) - len(text.lstrip())] + f"*{core}*" + text[len(text.rstrip()) :]


def _wiki_escape(text: str) -> str:
    # Newlines would start new wiki blocks (a detail could otherwise open a list or a heading).
    return _WIKI_SPECIAL.sub(lambda match: "\\" + match[0], _WHITESPACE.sub(" ", text))
