"""What a person reads in a Jira body: the text of an ADF document (Cloud) or a wiki string (Data Center)."""

from __future__ import annotations

import re
from typing import Any


def body_text(body: Any) -> str:
    """Readable text of an ADF document (Cloud) or a wiki string (Data Center)."""
    if isinstance(body, str):
        return re.sub(r"\\(.)", r"\1", body)  # wiki escapes, as a reader sees them
    if isinstance(body, dict):
        own = str(body.get("text", "")) + " ".join(
            str(m["attrs"]["href"]) for m in body.get("marks", []) if m.get("type") == "link"
        )
        return own + " ".join(body_text(child) for child in body.get("content", []))
    return ""


def seen_lines(body: Any) -> list[str]:
    """The lines a person reads in a Jira body, markup gone: one per heading, paragraph and list item."""
    if isinstance(body, str):
        lines = []
        for raw in body.splitlines():
            line = re.sub(r"^(h\d\. |\* )", "", raw)
            line = re.sub(r"(?<!\\)\[([^|\]]*)\|[^\]]*\]", r"\1", line)  # [label|url] shows its label
            line = re.sub(r"(?<!\\)\*", "", line)  # bold markers
            if line.strip():
                lines.append(re.sub(r"\\(.)", r"\1", line))
        return lines
    if isinstance(body, dict):
        if body.get("type") in ("paragraph", "heading"):
            return ["".join(str(part.get("text", "")) for part in body.get("content", []))]
        return [line for child in body.get("content", []) for line in seen_lines(child)]
    return []
