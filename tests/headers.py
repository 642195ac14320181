"""Header rows of the workbook's sheets as DESIGN.md fixes them, stated once for every test."""

from __future__ import annotations

RULES_HEADER = ["Account ID", "Account Name", "Region", "Rule Name", "Compliance", "Non-compliant Resources"]
"""The Rules sheet's first columns (rule-health columns follow)."""

FINDINGS_HEADER = [
    "Account ID",
    "Account Name",
    "Region",
    "Rule Name",
    "Resource Type",
    "Resource ID",
    "Annotation",
    "Last Evaluated",
    "Status",
    "First Seen",
    "Age (days)",
]
"""The Non-compliant resources sheet's first columns (Accepted, Owner ... follow)."""

CHANGES_HEADER = ["Status", *FINDINGS_HEADER[:8], "First Seen", "Age (days)"]
"""The Changes sheet: each finding's status first, then the fixed columns and its age."""
