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
