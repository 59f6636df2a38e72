"""The reading rule, URL by URL: every URL pattern, asked by anonymous, another team's agent,
a teammate, the owner and the lead, about a section kept to its owner (仅自己), one shared
with the lead (主管可见) and one shared with the team (团队共享).

Each row says who gets in; everyone else must get a 404 (or, anonymous, the login page).
A URL added without a row fails ``test_every_url_has_a_row``. Who reads what is written
once in the README ("Who reads what"); this table is that rule, checked.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from manuals.images.pipeline import image_html, store_image
from manuals.models import DocumentImport, Section
from manuals.team_templates.cloning import clone_template
from manuals.team_templates.default_template import ensure_default_template
from manuals.tree import SectionContent, save_section_content
from printing.models import Edition
from tests.conftest import section_titled
from tests.manuals.test_images import picture

ROLES = ("anonymous", "carol", "bob", "alice", "lena")
EVERYONE = set(ROLES)
MEMBERS = {"carol", "bob", "alice", "lena"}  # logged in, each in a team
TEAM = {"bob", "alice", "lena"}
OWNER = {"alice"}
OWNER_OR_LEAD = {"alice", "lena"}
LEAD = {"lena"}
VISIBILITIES = ("private", "lead", "shared")


def readers(visibility: str) -> set[str]:
    """Who reads alice's section of this visibility: the rule of the README."""
    return {"private": OWNER, "lead": OWNER_OR_LEAD, "shared": TEAM}[visibility]


# name: (how to build its URL from the world, who gets in: a set or a function of visibility,
#        method)
def _s(w):
    return {"manual_id": w["manual"].pk, "section_id": w["section"].pk}


ROWS = {
    "login": (lambda w: {}, EVERYONE, "get"),
    "logout": (lambda w: {}, EVERYONE, "post"),
    "set_language": (lambda w: {}, EVERYONE, "post"),
    "manuals:jsi18n": (lambda w: {}, EVERYONE, "get"),
    "search:fold_table": (lambda w: {}, EVERYONE, "get"),
    "search:results": (lambda w: {}, MEMBERS, "get"),
    "search:status": (lambda w: {}, MEMBERS, "get"),
    "search:rebuild": (lambda w: {}, LEAD, "post"),
    "search:find_in_manual": (lambda w: {"manual_id": w["manual"].pk}, TEAM, "get"),
    "printing:archive": (lambda w: {}, MEMBERS, "get"),
    "printing:request": (lambda w: {"manual_id": w["manual"].pk}, TEAM, "get"),
    "printing:edition": (lambda w: {"edition_id": w["edition"].pk}, readers, "get"),
    "printing:status": (lambda w: {"edition_id": w["edition"].pk}, readers, "get"),
    "printing:download": (lambda w: {"edition_id": w["edition"].pk}, readers, "get"),
    "printing:retry": (lambda w: {"edition_id": w["edition"].pk}, readers, "post"),
    "printing:schedule": (lambda w: {}, LEAD, "get"),
    "manuals:home": (lambda w: {}, MEMBERS, "get"),
    "manuals:new_manual": (lambda w: {}, MEMBERS, "post"),
    "manuals:manual": (lambda w: {"manual_id": w["manual"].pk}, TEAM, "get"),
    "manuals:add_section": (lambda w: {"manual_id": w["manual"].pk}, OWNER, "post"),
    "manuals:trash": (lambda w: {"manual_id": w["manual"].pk}, OWNER, "get"),
    "manuals:section": (_s, readers, "get"),
    "manuals:edit_section": (_s, OWNER, "get"),
    "manuals:read_section": (_s, readers, "get"),
    "manuals:outline_branch": (_s, readers, "get"),
    "manuals:document_chunk": (lambda w: {"manual_id": w["manual"].pk}, TEAM, "get"),
    "manuals:save_section_inline": (_s, OWNER, "post"),
    "manuals:move_section": (_s, OWNER, "post"),
    "manuals:shift_section": (lambda w: {**_s(w), "direction": "down"}, OWNER, "post"),
    "manuals:trash_section": (_s, OWNER, "post"),
    "manuals:restore_section": (_s, OWNER, "post"),
    "manuals:purge_section": (_s, OWNER, "post"),
    "manuals:history": (_s, readers, "get"),
    "manuals:restore_revision": (lambda w: {**_s(w), "version": 1}, OWNER, "post"),
    "manuals:section_draft": (_s, OWNER, "get"),  # the writer's own draft only
    "manuals:copy_section": (_s, readers, "get"),
    "manuals:mark_case": (_s, readers, "post"),
    "manuals:start_manual": (lambda w: {}, MEMBERS, "post"),
    "manuals:clone_template": (lambda w: {"template_id": w["template"].pk}, TEAM, "post"),
    "manuals:templates": (lambda w: {}, LEAD, "get"),
    "manuals:template_new": (lambda w: {}, LEAD, "post"),
    "manuals:template_status": (lambda w: {"template_id": w["template"].pk}, LEAD, "get"),
    "manuals:template_retire": (lambda w: {"template_id": w["template"].pk}, LEAD, "post"),
    "manuals:template_delete": (lambda w: {"template_id": w["template"].pk}, LEAD, "post"),
    "manuals:template_updates": (lambda w: {"manual_id": w["clone"].pk}, OWNER, "get"),
    "manuals:template_updates_accept_all": (
        lambda w: {"manual_id": w["clone"].pk},
        OWNER,
        "post",
    ),  # fmt: skip
    "manuals:template_update_decide": (
        lambda w: {"manual_id": w["clone"].pk, "template_section_id": w["template_section"].pk},
        OWNER,
        "post",
    ),  # fmt: skip
    "manuals:template_removal_decide": (
        lambda w: {"manual_id": w["clone"].pk, "section_id": w["clone_section"].pk},
        OWNER,
        "post",
    ),  # fmt: skip
    "manuals:handover": (lambda w: {"manual_id": w["manual"].pk}, OWNER_OR_LEAD, "get"),
    "manuals:hand_over": (lambda w: {"manual_id": w["manual"].pk}, OWNER_OR_LEAD, "post"),
    "manuals:transfer_manual": (lambda w: {"manual_id": w["manual"].pk}, OWNER_OR_LEAD, "post"),
    "manuals:archive_manual": (lambda w: {"manual_id": w["manual"].pk}, OWNER_OR_LEAD, "post"),
    "manuals:activity": (lambda w: {}, MEMBERS, "get"),
    "manuals:image": (lambda w: {"image_id": w["image"].pk}, readers, "get"),
    "manuals:image_thumb": (lambda w: {"image_id": w["image"].pk}, readers, "get"),
    "manuals:image_library": (lambda w: {"manual_id": w["manual"].pk}, OWNER, "get"),
    "manuals:image_upload": (lambda w: {"manual_id": w["manual"].pk}, OWNER, "post"),
    "manuals:import_upload": (lambda w: {}, MEMBERS, "get"),
    "manuals:import_preview": (lambda w: {"import_id": w["import"].pk}, OWNER, "get"),
    "manuals:import_confirm": (lambda w: {"import_id": w["import"].pk}, OWNER, "post"),
    "manuals:import_cancel": (lambda w: {"import_id": w["import"].pk}, OWNER, "post"),
    "manuals:import_status": (lambda w: {"import_id": w["import"].pk}, OWNER, "get"),
    "manuals:export_manual": (
        lambda w: {"manual_id": w["manual"].pk, "fmt": "docx"},
        TEAM,
        "get",
    ),  # fmt: skip
    "manuals:team": (lambda w: {}, LEAD, "get"),
    "manuals:members": (lambda w: {}, LEAD, "get"),
    "manuals:add_member": (lambda w: {}, LEAD, "post"),
    "manuals:add_members_csv": (lambda w: {}, LEAD, "post"),
    "manuals:reset_member_password": (lambda w: {"user_id": w["bob"].pk}, LEAD, "post"),
    "manuals:set_member_active": (lambda w: {"user_id": w["bob"].pk}, LEAD, "post"),
    "manuals:change_password": (lambda w: {}, MEMBERS, "get"),
    # A set-password link with a forged token: nobody gets in (404 for all).
    "manuals:set_password": (lambda w: {"uidb64": "MQ", "token": "forged"}, set(), "get"),
    "healthz": (lambda w: {}, EVERYONE, "get"),
    "manuals:casebook": (lambda w: {}, MEMBERS, "get"),
}


def url_names() -> list[str]:
    def walk(patterns, namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith("admin/"):
                    continue  # Django's admin: staff only, its own permission system
                inner = ":".join(n for n in (namespace, p.namespace) if n)
                yield from walk(p.url_patterns, inner)
            elif isinstance(p, URLPattern) and p.name:
                yield ":".join(n for n in (namespace, p.name) if n)

    return sorted(set(walk(get_resolver().url_patterns)))


def test_every_url_has_a_row():
    assert set(url_names()) - set(ROWS) == set(), "add a row for each new URL"
    assert set(ROWS) - set(url_names()) == set()


@pytest.fixture
def world(alice, bob, lena, carol, alice_manual):
    def build(visibility: str) -> dict:
        section = section_titled(alice_manual, "考勤制度")
        image = store_image(manual=alice_manual, data=picture(), original_name="排班.jpg")
        save_section_content(
            section=section, expected_version=section.version, user=alice,
            content=SectionContent(title="考勤制度", body=image_html(image), visibility=visibility),
        )  # fmt: skip
        template = ensure_default_template(team=lena.member.team)
        clone = clone_template(template=template, owner=alice)
        edition = Edition.objects.create(
            manual=alice_manual,
            # what the edition holds follows the visibility under test: all of alice's
            # sections (hers alone), what the lead printed (lead-visible), the shared ones
            requested_by={"private": alice, "lead": lena, "shared": alice}[visibility],
            scope="shared" if visibility == "shared" else "all",
            status=Edition.Status.DONE,
            page_count=1,
        )
        edition.file.save("e.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
        job = DocumentImport.objects.create(owner=alice, original_name="笔记.md")
        return {
            "bob": bob,
            "manual": alice_manual,
            "section": Section.objects.get(pk=section.pk),
            "image": image,
            "template": template,
            "template_section": Section.objects.filter(manual=template, level=1).first(),
            "clone": clone,
            "clone_section": Section.objects.filter(manual=clone, level=1).first(),
            "edition": edition,
            "import": job,
        }

    return build


def denied(role: str, response) -> bool:
    if response.status_code in (403, 404):
        return True
    location = response.get("Location", "")
    return role == "anonymous" and response.status_code == 302 and "/login/?next=" in location


@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("name", sorted(ROWS))
def test_who_gets_in(name, visibility, world, alice, bob, lena, carol):
    build, allowed, method = ROWS[name]
    allowed = allowed(visibility) if callable(allowed) else allowed
    w = world(visibility)
    url = reverse(name, kwargs=build(w))
    users = {"carol": carol, "bob": bob, "alice": alice, "lena": lena}
    got = set()
    # The owner and the lead last: what they may do (delete, move) must not change the
    # world the others are asked about first.
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(users[role])
        response = getattr(client, method)(url)
        if not denied(role, response):
            got.add(role)
    assert got == allowed, f"{name} ({visibility})"
