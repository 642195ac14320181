"""The workbook's sheets and their whole header rows, stated once for every test.

DESIGN.md fixes each sheet's first columns ("more may follow"); these are the whole rows the report
writes today, so a column added, dropped or moved by accident fails every test that reads a sheet.
"""

from __future__ import annotations

SHEETS = ["Summary", "Accounts", "Rules", "Non-compliant resources", "Coverage", "Changes", "Rule catalogue"]
"""The sheets in their contract order (`Accepted exceptions` follows when an exceptions file is set)."""

ACCOUNTS_HEADER = [
    "Account ID",
    "Account Name",
    "OU",
    "Scan Status",
    "Regions Scanned",
    "Regions Without Config",
    "Regions Not Readable",
    "Non-compliant Rules",
    "Non-compliant Resources",
    "Compliance Share",
    "Compliance Share Change",
    "Email",
]

RULES_HEADER = [
    "Account ID",
    "Account Name",
    "Region",
    "Rule Name",
    "Compliance",
    "Non-compliant Resources",
    "Severity",
    "Normalized Rule Name",
    "Rule State",
    "Read Status",
    "Read Detail",
    "Evaluation",
    "Last Successful Evaluation",
    "Last Failed Evaluation",
    "Last Error Code",
]

FINDING_COLUMNS = [
    "Account ID",
    "Account Name",
    "Region",
    "Rule Name",
    "Resource Type",
    "Resource ID",
    "Annotation",
    "Last Evaluated",
]
"""The columns every finding has, on the resources sheet and on Changes."""

FINDINGS_HEADER = [
    *FINDING_COLUMNS,
    "Severity",
    "Status",
    "First Seen",
    "Age (days)",
    "Accepted",
    "Owner",
    "Owner Source",
    "Normalized Rule Name",
    "Rule Docs",
    "Console",
]

COVERAGE_HEADER = ["Account ID", "Account Name", "Region", "Status", "Detail", "AWS Message"]
"""`Detail`: what the status means and its fix; `AWS Message`: what AWS said, or what the read found."""

CHANGES_HEADER = ["Status", *FINDING_COLUMNS, "Severity", "Owner", "OU", "First Seen", "Age (days)"]
"""The Changes sheet: each finding's status first, then the finding's columns, who acts, and its age."""

CATALOGUE_HEADER = [
    "Rule",
    "Source",
    "Identifier",
    "Severity",
    "Description",
    "Created By",
    "Docs Link",
    "Accounts Deployed",
    "Account-Regions Deployed",
    "Accounts Failing",
    "Resources Failing",
    "Conformance Packs",
]

HEADERS = {
    "Accounts": ACCOUNTS_HEADER,
    "Rules": RULES_HEADER,
    "Non-compliant resources": FINDINGS_HEADER,
    "Coverage": COVERAGE_HEADER,
    "Changes": CHANGES_HEADER,
    "Rule catalogue": CATALOGUE_HEADER,
}
"""Each data sheet's whole header row, by sheet name."""
