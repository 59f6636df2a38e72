"""Several imports at once on a real PostgreSQL: new manuals race for tree ids, imports
under sections of one manual race for its nested set. Every tree must stay intact."""

import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document

from tests.manuals.documents import png_bytes
from tests.pgserver import REPO, worker_env

HEADINGS = 120

pytestmark = pytest.mark.postgres

SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
from manuals.models import Member, Team
from manuals.tree import SectionContent, add_section, create_manual
team = Team.objects.create(name="并发组")
user = get_user_model().objects.create_user("racer", password="x")
Member.objects.create(user=user, team=team)
manual = create_manual(owner=user, title="共享目标")
for title in ("甲", "乙", "丙"):
    add_section(manual=manual, content=SectionContent(title=title))
print(manual.pk)
"""

UNDER = """
import sys, django
django.setup()
from pathlib import Path
from manuals.documents.importing import import_document, read_document
from manuals.models import Manual, Section
manual = Manual.objects.get(pk=int(sys.argv[1]))
target = Section.objects.get(manual=manual, title=sys.argv[2])
import_document(parsed=read_document(Path(sys.argv[3])), owner=manual.owner, target=target)
"""


def _document(path: Path, tag: str) -> Path:
    document = Document()
    for index in range(HEADINGS):
        document.add_heading(f"{tag} {index}", level=1 if index % 10 == 0 else 2)
        document.add_paragraph(f"{tag} 的第 {index} 节正文")
        if index % 40 == 0:
            document.add_picture(BytesIO(png_bytes((index, 80, 160))))
    document.save(path)
    return path


def _manage(env, *args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args], cwd=REPO, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs,
    )  # fmt: skip


def _finish(proc) -> str:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out


def test_simultaneous_imports_leave_every_tree_intact(postgres_url, tmp_path):
    env = worker_env(postgres_url, tmp_path)
    _finish(_manage(env, "manage.py", "migrate", "-v", "0"))
    shared = int(_finish(_manage(env, "-c", SETUP)).strip())

    files = [_document(tmp_path / f"n{i}.docx", f"新{i}") for i in range(3)]
    targets = {title: _document(tmp_path / f"u{title}.docx", title) for title in ("甲", "乙", "丙")}
    new_manuals = [
        _manage(env, "manage.py", "import_manual", str(path), "--owner", "racer") for path in files
    ]
    under = [_manage(env, "-c", UNDER, str(shared), t, str(p)) for t, p in targets.items()]
    ids = [int(_finish(proc).strip().splitlines()[-1]) for proc in new_manuals]
    for proc in under:
        _finish(proc)

    assert len(set(ids)) == 3
    _finish(_manage(env, "manage.py", "check_trees"))
    counts = _finish(
        _manage(env, "-c", "import django; django.setup()\n"
                "from manuals.models import Section, Manual\n"
                "for m in Manual.objects.order_by('pk'):\n"
                "    print(m.pk, Section.objects.filter(manual=m, level__gt=0).count(),"
                " m.images.count())")
    )  # fmt: skip
    rows = {}
    for line in counts.splitlines():
        pk, sections, images = map(int, line.split())
        rows[pk] = (sections, images)
    # The three documents share their pictures: the manual keeps one copy of each.
    assert rows[shared] == (3 + 3 * HEADINGS, 3)
    for pk in ids:
        assert rows[pk] == (HEADINGS, 3)
