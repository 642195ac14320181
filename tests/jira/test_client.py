"""The Jira client and the fake Jira it is tested against: flavors, auth, retries, and Jira's own rules."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

import config_report.jira
from config_report.errors import JiraError
from config_report.jira import Flavor, JiraClient, week_label
from config_report.jira._document import BulletList, Document, Heading, Link, Paragraph, Text, to_adf, to_wiki
from config_report.simulated.jira import RETIRED_SEARCH, TOO_LONG, FakeJira


class Sleeps(list[float]):
    """Records how long the client would have waited, instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(jira: FakeJira, sleeps: Sleeps | None = None, *, flavor: Flavor | None = None) -> JiraClient:
    email = jira.email if jira.flavor == "cloud" else None
    return JiraClient(
        jira.url,
        token=jira.token,
        email=email,
        flavor=flavor,
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def raw(jira: FakeJira) -> httpx.Client:
    """A plain HTTP client with the right credentials, to probe the fake's rules directly."""
    if jira.flavor == "cloud":
        return httpx.Client(base_url=jira.url, auth=(jira.email, jira.token))
    return httpx.Client(base_url=jira.url, headers={"Authorization": f"Bearer {jira.token}"})


def test_public_surface_is_pinned() -> None:
    assert config_report.jira.__all__ == [
        "Flavor",
        "JiraClient",
        "PublishedWorkbook",
        "TicketLedger",
        "TicketOutcome",
        "connect",
        "iso_week",
        "sync_weekly_ticket",
        "week_label",
    ]


# --- flavors --------------------------------------------------------------------------------------


def test_flavor_comes_from_server_info(cloud: FakeJira, datacenter: FakeJira) -> None:
    with client_for(cloud) as c, client_for(datacenter) as d:
        assert (c.flavor, d.flavor) == (Flavor.CLOUD, Flavor.DATACENTER)
        c.search('labels = "x"')
        d.search('labels = "x"')
    assert [r.path for r in cloud.requests] == ["/rest/api/2/serverInfo", "/rest/api/3/search/jql"]
    assert [r.path for r in datacenter.requests] == ["/rest/api/2/serverInfo", "/rest/api/2/search"]


def test_configured_flavor_skips_server_info(datacenter: FakeJira) -> None:
    with client_for(datacenter, flavor=Flavor.DATACENTER) as client:
        client.search('labels = "x"')
    assert [r.path for r in datacenter.requests] == ["/rest/api/2/search"]


def test_cloud_without_an_email_is_told_to_set_one(cloud: FakeJira) -> None:
    with pytest.raises(JiraError, match="Jira Cloud, which needs basic auth: set CONFIG_REPORT_JIRA_EMAIL"):
        JiraClient(cloud.url, token=cloud.token, flavor=Flavor.CLOUD)


def test_cloud_refusing_a_bearer_token_points_at_the_email_setting(cloud: FakeJira) -> None:
    with (
        JiraClient(cloud.url, token=cloud.token) as client,
        pytest.raises(JiraError, match=r"Jira answered 401 .* Check CONFIG_REPORT_JIRA_EMAIL"),
    ):
        client.search('labels = "x"')


def test_wiki_and_adf_say_the_same_thing() -> None:
    document = Document(
        (
            Heading("Report"),
            Paragraph((Text("Run ", strong=True), Text("42"))),
            BulletList(((Link("console", "https://example.com/a?b=c"),), (Text("sg-0a1b: -2"),))),
        )
    )
    assert (
        to_wiki(document)
        == "h3. Report\n\n*Run* 42\n\n* [console|https://example.com/a?b=c]\n* sg-0a1b: \\-2"
    )
    assert to_adf(document)["content"] == [
        {"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": "Report"}]},
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "Run ", "marks": [{"type": "strong"}]},
                {"type": "text", "text": "42"},
            ],
        },
        {
            "type": "bulletList",
            "content": [
                {
                    "type": "listItem",
                    "content": [
                        {
                            "type": "paragraph",
                            "content": [
                                {
                                    "type": "text",
                                    "text": "console",
                                    "marks": [
                                        {"type": "link", "attrs": {"href": "https://example.com/a?b=c"}}
                                    ],
                                }
                            ],
                        }
                    ],
                },
                {
                    "type": "listItem",
                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "sg-0a1b: -2"}]}],
                },
            ],
        },
    ]


def test_aws_strings_cannot_inject_wiki_markup() -> None:
    hostile = "!http://evil.example/x.png! [click|http://evil.example] {code} *bold*\nh1. Title"
    wiki = to_wiki(Document((Paragraph((Text(hostile),)),)))
    assert wiki == (
        "\\!http://evil.example/x.png\\! \\[click\\|http://evil.example\\] \\{code\\} \\*bold\\* h1. Title"
    )


# --- retries --------------------------------------------------------------------------------------


def test_retry_after_as_an_http_date_is_honoured(datacenter: FakeJira) -> None:
    when = (datetime.now(UTC) + timedelta(seconds=30)).replace(microsecond=0)
    datacenter.fail(429, path="/search", retry_after=format_datetime(when, usegmt=True))
    sleeps = Sleeps()
    before = datetime.now(UTC)
    with client_for(datacenter, sleeps) as client:
        client.search('labels = "x"')
    after = datetime.now(UTC)
    [waited] = sleeps
    # The client measured the date against its own clock somewhere between `before` and `after`:
    # bounds taken from the same clock hold however slow a loaded machine makes the request.
    assert (when - after).total_seconds() <= waited <= (when - before).total_seconds()


def test_retry_after_is_capped_for_a_batch_job(datacenter: FakeJira) -> None:
    datacenter.fail(503, path="/search", retry_after="86400")
    sleeps = Sleeps()
    with client_for(datacenter, sleeps) as client:
        client.search('labels = "x"')
    assert sleeps == [120.0]


def test_unreachable_jira_is_a_jira_error_after_bounded_attempts() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    with (
        JiraClient(f"http://127.0.0.1:{port}", token="t", flavor=Flavor.DATACENTER, sleep=sleeps) as client,
        pytest.raises(JiraError, match=f"Jira at http://127.0.0.1:{port} could not be reached"),
    ):
        client.search('labels = "x"')
    assert sleeps == [1.0, 2.0, 4.0, 8.0]


# --- the fake's rules, which are Jira's -----------------------------------------------------------


@pytest.mark.parametrize("path", ["/rest/api/3/search", "/rest/api/2/search", "/rest/api/latest/search"])
def test_cloud_answers_410_to_the_retired_search(cloud: FakeJira, path: str) -> None:
    with raw(cloud) as http:
        response = http.post(path, json={"jql": "project = SEC"})
    assert response.status_code == 410
    assert response.json() == {"errorMessages": [RETIRED_SEARCH], "errors": {}}


def test_each_flavor_wants_its_own_auth(cloud: FakeJira, datacenter: FakeJira) -> None:
    bearer = {"Authorization": f"Bearer {cloud.token}"}
    assert httpx.get(f"{cloud.url}/rest/api/2/serverInfo", headers=bearer).status_code == 401
    basic = (datacenter.email, datacenter.token)
    assert httpx.get(f"{datacenter.url}/rest/api/2/serverInfo", auth=basic).status_code == 401


def test_attachments_need_the_xsrf_header_and_the_field_named_file(
    datacenter: FakeJira, tmp_path: Path
) -> None:
    workbook = tmp_path / "report.xlsx"
    workbook.write_bytes(b"PK\x03\x04 not really a workbook")
    with client_for(datacenter) as client:
        key = client.create_issue(
            {"project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": "s"}, Document(())
        )
        client.attach(key, workbook)
    with raw(datacenter) as http:
        files = {"file": ("a.xlsx", b"x")}
        no_header = http.post(f"/rest/api/2/issue/{key}/attachments", files=files)
        wrong_field = http.post(
            f"/rest/api/2/issue/{key}/attachments",
            files={"upload": ("a.xlsx", b"x")},
            headers={"X-Atlassian-Token": "no-check"},
        )
    assert (no_header.status_code, no_header.json()["errorMessages"]) == (403, ["XSRF check failed"])
    assert wrong_field.status_code == 400
    [attachment] = datacenter.issues[key].attachments
    assert (attachment.filename, attachment.content) == ("report.xlsx", workbook.read_bytes())


def test_v3_wants_adf_and_v2_on_data_center_wants_wiki(cloud: FakeJira, datacenter: FakeJira) -> None:
    fields = {"project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": "s"}
    with raw(cloud) as c, raw(datacenter) as d:
        wiki_on_v3 = c.post("/rest/api/3/issue", json={"fields": {**fields, "description": "h3. x"}})
        wiki_on_cloud_v2 = c.post("/rest/api/2/issue", json={"fields": {**fields, "description": "h3. x"}})
        adf = {"type": "doc", "version": 1, "content": []}
        adf_on_dc = d.post("/rest/api/2/issue", json={"fields": {**fields, "description": adf}})
        v3_on_dc = d.post("/rest/api/3/issue", json={"fields": fields})
    assert wiki_on_v3.status_code == 400
    assert wiki_on_cloud_v2.status_code == 201
    assert adf_on_dc.status_code == 400
    assert v3_on_dc.status_code == 404


def test_like_jira_the_fake_refuses_text_past_32767_characters(cloud: FakeJira, datacenter: FakeJira) -> None:
    fields = {"project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": "s"}
    fits = Document((Paragraph((Text("x" * 32_000),)),))
    too_long = Document((Paragraph((Text("x" * 32_768),)),))
    with raw(cloud) as c, raw(datacenter) as d:
        answers = [
            c.post("/rest/api/3/issue", json={"fields": {**fields, "description": to_adf(fits)}}),
            c.post("/rest/api/3/issue", json={"fields": {**fields, "description": to_adf(too_long)}}),
            d.post("/rest/api/2/issue", json={"fields": {**fields, "description": to_wiki(fits)}}),
            d.post("/rest/api/2/issue", json={"fields": {**fields, "description": to_wiki(too_long)}}),
            d.post("/rest/api/2/issue/SEC-1/comment", json={"body": to_wiki(too_long)}),
        ]
    assert [a.status_code for a in answers] == [201, 400, 201, 400, 400]
    assert answers[1].json()["errors"]["description"] == TOO_LONG
    assert answers[4].json()["errors"]["comment"] == TOO_LONG


def test_each_environment_labels_its_own_weekly_ticket() -> None:
    assert week_label("2026-W48") == "aws-config-report-2026-W48"
    assert week_label("2026-W48", environment="stg") == "aws-config-report-stg-2026-W48"
