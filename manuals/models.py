"""Teams, manuals and their section trees.

One django-mptt tree per manual: the manual points to a hidden root section whose
children are the chapters. Every tree write goes through the functions in
``manuals.tree`` (inside ``transaction.atomic()``, after locking the manual row).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey

from manuals.sanitize import SanitizedHTMLField, SanitizedQuerySet
from manuals.storage import imports_storage

TITLE_MAX_LENGTH = 200
# A section's stored (sanitised) HTML. A 5 MB body was once saved, stored again in every
# revision and held the printing worker for its full 900 s; 300,000 characters is some 100
# printed pages, far beyond any one case or rule.
BODY_MAX_CHARS = 300_000

T = TypeVar("T")
# What Manual.outline() loads per section: enough to draw, nest and link the outline.
OUTLINE_FIELDS = (
    "id", "parent_id", "manual_id", "tree_id", "lft", "rght", "level", "title", "kind",
    "visibility",
)  # fmt: skip


class Team(models.Model):
    name = models.CharField(_("名称"), max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("团队")
        verbose_name_plural = _("团队")

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """A user's place in a team: agent or lead. Admins are Django staff users."""

    class Role(models.TextChoices):
        AGENT = "agent", _("客服")
        LEAD = "lead", _("主管")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(_("显示名"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("成员")
        verbose_name_plural = _("成员")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        user = self.user
        return self.name_of(self.display_name, user.first_name, user.last_name, user.username)

    # What ``name`` reads, as columns of a user row (for lists of plain rows).
    NAME_FIELDS = ("member__display_name", "first_name", "last_name", "username")

    @staticmethod
    def name_of(display_name: str | None, first_name: str, last_name: str, username: str) -> str:
        """The name people see: the display name, else the full name, else the login. A
        user without a member row (display_name None: an admin account) by login."""
        if display_name is None:
            return username
        full_name = f"{first_name} {last_name}".strip()  # User.get_full_name()
        return display_name or full_name or username

    @property
    def is_lead(self) -> bool:
        return self.role == self.Role.LEAD


def member_of(user) -> Member | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.member
    except Member.DoesNotExist:
        return None


class ManualQuerySet(models.QuerySet):
    def readable_by(self, user) -> ManualQuerySet:
        """Manuals whose outline the user may open (sections are filtered separately)."""
        member = member_of(user)
        if member is None:
            return self.none()
        return self.filter(team_id=member.team_id)

    def writable_by(self, user) -> ManualQuerySet:
        member = member_of(user)
        if member is None:
            return self.none()
        own = Q(owner_id=user.pk, archived_at__isnull=True)
        if member.is_lead:
            # A lead curates the team's templates.
            own |= Q(team_id=member.team_id, is_template=True, archived_at__isnull=True)
        return self.filter(own, team_id=member.team_id)


class Manual(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="manuals"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="manuals")
    title = models.CharField(_("标题"), max_length=TITLE_MAX_LENGTH)
    # RESTRICT, not PROTECT: the root cannot be deleted on its own, but deleting the
    # manual (which cascades to its sections, the root among them) is allowed.
    root = models.OneToOneField(
        "Section", on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    is_template = models.BooleanField(_("团队模板"), default=False)
    template = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clones",
        verbose_name=_("来源模板"),
    )
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ManualQuerySet.as_manager()

    class Meta:
        verbose_name = _("工作手册")
        verbose_name_plural = _("工作手册")
        ordering = ["title", "pk"]

    def __str__(self) -> str:
        return self.title

    def can_write(self, user) -> bool:
        return Manual.objects.writable_by(user).filter(pk=self.pk).exists()

    def readable_in_full_by(self, user) -> bool:
        """The owner, or anyone in the team for a template: every section, private ones
        included (the lead reads only what is shared with the lead or the team)."""
        member = member_of(user)
        if member is None or member.team_id != self.team_id:
            return False
        return self.owner_id == user.pk or self.is_template

    def live_sections(self) -> SectionQuerySet:
        return Section.objects.filter(manual=self).live()

    def outline_positions(self, *, user=None) -> list[OutlinePosition]:
        """The outline's rows as positions only: placing a chunk of the continuous
        document needs where its rows are, not their titles (a third of the time)."""
        sections = Section.objects.filter(manual=self, level__gt=0).live()
        if user is not None:
            sections = sections.readable_by(user)
        rows = sections.in_outline_order().values_list("id", "lft", "rght")
        return [OutlinePosition(*row) for row in rows]

    def outline(self, *, user=None) -> list[Section]:
        """Chapters and subsections in tree order, loaded in one query.

        With ``user`` only the sections that user may read are kept; a readable section
        whose ancestors are hidden hangs under its nearest readable ancestor. The rows carry
        OUTLINE_FIELDS; other fields (body…) load one query each if touched.
        """
        sections = Section.objects.filter(manual=self, level__gt=0).live()
        if user is not None:
            sections = sections.readable_by(user)
        rows = sections.order_by("lft").values_list(*OUTLINE_FIELDS)
        db = sections.db
        return [Section.outline_row(row, db=db) for row in rows]


class SectionQuerySet(SanitizedQuerySet):
    def live(self) -> SectionQuerySet:
        return self.filter(trashed_at__isnull=True)

    # Tree reads. Nested-set numbers stay in this module and the tree modules (tree.py,
    # bulk.py, integrity.py): everyone else asks these.
    def subtree_of(self, section: Section, *, include_self: bool = True) -> SectionQuerySet:
        """``section`` (unless ``include_self`` is False) and everything below it."""
        if include_self:
            bounds = Q(lft__gte=section.lft, rght__lte=section.rght)
        else:
            bounds = Q(lft__gt=section.lft, rght__lt=section.rght)
        return self.filter(bounds, tree_id=section.tree_id)

    def within(self, sections) -> SectionQuerySet:
        """Everything strictly below any of ``sections`` (one query, whatever their count)."""
        inside = Q(pk__in=[])
        for section in sections:
            inside |= Q(tree_id=section.tree_id, lft__gt=section.lft, rght__lt=section.rght)
        return self.filter(inside)

    def ancestors_of(self, section: Section, *, include_self: bool = False) -> SectionQuerySet:
        """The sections above ``section`` (the hidden root included), top first when
        ordered with ``in_outline_order()``."""
        if include_self:
            bounds = Q(lft__lte=section.lft, rght__gte=section.rght)
        else:
            bounds = Q(lft__lt=section.lft, rght__gt=section.rght)
        return self.filter(bounds, tree_id=section.tree_id)

    def before(self, section: Section) -> SectionQuerySet:
        """Sections that end before ``section`` starts (earlier siblings and their subtrees,
        earlier chapters), in the same tree."""
        return self.filter(tree_id=section.tree_id, rght__lt=section.lft)

    def in_outline_order(self, *, reverse: bool = False, live_first: bool = False):
        """Tree order (pre-order); ``live_first``: every live row before any trashed one."""
        order = ["-lft" if reverse else "lft"]
        if live_first:
            order.insert(0, F("trashed_at").asc(nulls_first=True))
        return self.order_by(*order)

    def readable_by(self, user) -> SectionQuerySet:
        """The one place that says who may read which section (README "Who reads what").

        The owner reads all of their own manual; everyone in the team reads its templates
        and the sections shared with the team (团队共享); the team's lead also reads those
        shared with the lead (主管可见); a section kept to oneself (仅自己) is read by its
        owner alone. Nobody reads another team's manuals.
        """
        return self.filter(readable_q(user, prefix="manual__"))


def readable_q(user, *, prefix: str) -> Q:
    """The reading rule as a condition on rows with a ``visibility`` whose manual is at
    ``prefix`` (sections: "manual__"; revisions: "section__manual__"). Revisions use their
    own visibility: what the section was when that version was saved."""
    member = member_of(user)
    if member is None:
        return Q(pk__in=[])
    return reading_rule(
        user_id=user.pk, team_id=member.team_id, is_lead=member.is_lead, prefix=prefix
    )


def reading_rule(*, user_id: int, team_id: int, is_lead: bool, prefix: str, section: str = "") -> Q:
    """``readable_q`` for a member of ``team_id`` (a lead or not): all it depends on.
    ``prefix`` leads to the manual, ``section`` to the section (``parent__``: the rule
    for the row's parent)."""
    shown = [Section.Visibility.SHARED]
    if is_lead:
        shown.append(Section.Visibility.LEAD)
    return Q(**{f"{prefix}team_id": team_id}) & (
        Q(**{f"{prefix}owner_id": user_id})
        | Q(**{f"{section}visibility__in": shown})
        | Q(**{f"{prefix}is_template": True})
    )


class Section(MPTTModel):
    # What nest() and the tree queries need of a row loaded with only()/values().
    TREE_FIELDS = ("tree_id", "level", "lft", "rght")

    class Kind(models.TextChoices):
        RULE = "rule", _("规则制度")
        RETROSPECTIVE = "retrospective", _("工作复盘")
        PROJECT = "project", _("项目资料")
        TOOL = "tool", _("工具学习")
        NOTE = "note", _("笔记")

    class Visibility(models.TextChoices):
        PRIVATE = "private", _("仅自己")
        LEAD = "lead", _("主管可见")
        SHARED = "shared", _("团队共享")

    manual = models.ForeignKey(Manual, on_delete=models.CASCADE, related_name="sections")
    parent = TreeForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    title = models.CharField(_("标题"), max_length=TITLE_MAX_LENGTH)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.NOTE)
    body = SanitizedHTMLField(_("正文"), blank=True, default="")
    visibility = models.CharField(
        _("可见范围"), max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Trash: a deleted subtree stays where it was, every node stamped with the same time;
    # ``trashed_root`` marks the node the user deleted, so restore knows what to bring back.
    trashed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    trashed_root = models.BooleanField(default=False)
    # Circulation: where a copied or cloned section came from.
    origin = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="copies",
        verbose_name=_("来源"),
    )
    origin_note = models.CharField(max_length=300, blank=True, default="")
    copied_at = models.DateTimeField(null=True, blank=True)
    # Template updates (manuals.team_templates.sync): the template section a cloned section came
    # from, the template's version it last took, and this copy's own version right after
    # (a higher ``version`` now means the agent edited it since).
    template_section = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="template_copies",
        verbose_name=_("模板来源"),
    )
    template_version = models.PositiveIntegerField(null=True, blank=True)
    synced_version = models.PositiveIntegerField(null=True, blank=True)
    # When the template section this was cloned from was deleted for good: the link above is
    # cleared then, and this is how the agent still learns the template removed it.
    template_removed_at = models.DateTimeField(null=True, blank=True)

    objects = SectionQuerySet.as_manager()

    class MPTTMeta:
        order_insertion_by: list[str] = []

    class Meta:
        verbose_name = _("章节")
        verbose_name_plural = _("章节")
        indexes = [
            # Search re-checks the sections changed in the last minutes (their index entry
            # may still be waiting): a range on updated_at, not a scan of the team, with
            # what the reading rule needs of the section in the index too (in the table
            # those columns follow the body, whose overflow pages SQLite would read).
            models.Index(
                fields=["updated_at", "manual", "level", "visibility", "trashed_at"],
                name="section_recent",
            ),
        ]
        constraints = [
            # A corrupt nested set must fail loudly, not render a scrambled outline.
            models.CheckConstraint(condition=Q(lft__gte=1), name="section_lft_positive"),
            models.CheckConstraint(condition=Q(rght__gt=F("lft")), name="section_rght_after_lft"),
            models.CheckConstraint(condition=Q(level__gte=0), name="section_level_nonnegative"),
            # Every write path (imports, restores, copies, bulk inserts) stores only known
            # kinds and visibilities: they end up in pages, classes and the reading rule.
            models.CheckConstraint(
                condition=Q(kind__in=["rule", "retrospective", "project", "tool", "note"]),
                name="section_kind_known",
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=["private", "lead", "shared"]),
                name="section_visibility_known",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, level=0) | Q(parent__isnull=False, level__gt=0),
                name="section_root_iff_level_zero",
            ),
            # On PostgreSQL two nodes can never share a bound. Checked at commit, because
            # django-mptt shifts bounds through intermediate states inside one transaction.
            # SQLite has no deferrable constraints: there check_trees is the safety net.
            models.UniqueConstraint(
                fields=["tree_id", "lft"],
                name="section_unique_lft",
                deferrable=models.Deferrable.DEFERRED,
            ),
            models.UniqueConstraint(
                fields=["tree_id", "rght"],
                name="section_unique_rght",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def outline_row(cls, values: tuple, *, db: str) -> Section:
        """A read-only Section from a tuple of OUTLINE_FIELDS values.

        Model.__init__, with django-mptt's bookkeeping on top, costs ~50 µs a row: most of
        the time to load a 5,000-section outline. Outline rows are only read (every tree
        write reloads its rows), so they skip it; saving one fails loudly.
        """
        section = cls.__new__(cls)
        section.__dict__.update(zip(OUTLINE_FIELDS, values, strict=True))
        section._state = ModelState()
        section._state.adding = False
        section._state.db = db
        return section

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    def readable_by(self, user) -> bool:
        return Section.objects.readable_by(user).filter(pk=self.pk).exists()


class RevisionQuerySet(SanitizedQuerySet):
    def readable_by(self, user) -> RevisionQuerySet:
        """Versions the user could read when they were saved: a version saved as 仅自己 stays
        the owner's even after the section is shared (history and diffs ask this)."""
        return self.filter(readable_q(user, prefix="section__manual__"))


class Revision(models.Model):
    """The state of a section after one save; restore writes a new revision."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    kind = models.CharField(max_length=20, choices=Section.Kind.choices)
    visibility = models.CharField(max_length=10, choices=Section.Visibility.choices)
    body = SanitizedHTMLField(blank=True, default="")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["section", "version"], name="revision_unique_version"),
            models.CheckConstraint(
                condition=Q(kind__in=Section.Kind.values), name="revision_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=Section.Visibility.values),
                name="revision_visibility_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.section_id} v{self.version}"


class TreeLock(models.Model):
    """One row, locked before creating a new tree: django-mptt picks the next tree_id
    as max+1, which two concurrent transactions would otherwise both take."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="treelock_singleton")]

    def __str__(self) -> str:
        return "tree lock"


def image_upload_path(instance: Image, filename: str) -> str:
    return f"manuals/{instance.manual_id}/images/{filename}"


class Image(models.Model):
    """A picture in a manual's library, checked and normalised (see manuals.images.pipeline).

    Served only through a permission-checked view, never straight from MEDIA_URL.
    """

    class Purpose(models.TextChoices):
        SECTION = "section", _("正文图片")
        COVER = "cover", _("封面照片")
        ILLUSTRATION = "illustration", _("插画")

    manual = models.ForeignKey(Manual, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to=image_upload_path, max_length=255)
    thumbnail = models.FileField(upload_to=image_upload_path, max_length=255, blank=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.SECTION)
    caption = models.CharField(_("图注"), max_length=200, blank=True, default="")
    original_name = models.CharField(max_length=255, blank=True, default="")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="", db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("图片")
        verbose_name_plural = _("图片")

    def __str__(self) -> str:
        return self.original_name or self.file.name


class Draft(models.Model):
    """What a writer has typed into a section's editor and not saved yet: one per writer and
    section, overwritten every few seconds, deleted when they save or discard it.

    Private to its author: only the draft endpoints read it (for ``user=request.user``);
    search, printing and exports read sections and revisions, never drafts."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True, default="")
    body = models.TextField(blank=True, default="")
    base_version = models.PositiveIntegerField()
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "section"], name="one_draft_per_writer")
        ]

    def __str__(self) -> str:
        return f"draft of {self.section_id} by {self.user_id}"


class SkippedTemplateUpdate(models.Model):
    """An agent's "skip" of one template section at one template version.

    The update is offered again only when the template section changes after that version.
    """

    manual = models.ForeignKey(Manual, on_delete=models.CASCADE, related_name="skipped_updates")
    template_section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="+")
    template_version = models.PositiveIntegerField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["manual", "template_section"], name="skipped_update_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.manual_id} skips {self.template_section_id} v{self.template_version}"


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user) -> ActivityQuerySet:
        """Both sides of a handover see it; a lead sees every entry of their team."""
        member = member_of(user)
        if member is None:
            return self.none()
        mine = Q(actor_id=user.pk) | Q(from_user_id=user.pk) | Q(to_user_id=user.pk)
        if member.is_lead:
            mine |= Q(team_id=member.team_id)
        return self.filter(mine)


class Activity(models.Model):
    """The handover/rotation log: who gave what to whom, when, with which note."""

    class Kind(models.TextChoices):
        COPY = "copy", _("复制交接")
        MOVE = "move", _("移交")
        TRANSFER = "transfer", _("整本转交")
        ARCHIVE = "archive", _("归档")
        UNARCHIVE = "unarchive", _("取消归档")
        CIRCULATE = "circulate", _("复制同事章节")

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_manual = models.ForeignKey(
        Manual, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_manual = models.ForeignKey(
        Manual, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_section = models.ForeignKey(
        Section, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    new_section = models.ForeignKey(
        Section, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True, default="")
    section_count = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("交接记录")
        verbose_name_plural = _("交接记录")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.title}"


class DocumentImportQuerySet(models.QuerySet):
    def of(self, user) -> DocumentImportQuerySet:
        """A person sees only their own uploads."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(owner_id=user.pk)


class DocumentImport(models.Model):
    """One upload on its way into a manual: analysed, previewed, then imported or cancelled.

    The file waits in the "imports" storage (never served) until the import ends.
    """

    class Status(models.TextChoices):
        ANALYSING = "analysing", _("正在分析")
        READY = "ready", _("等待确认")
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("正在导入")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        CANCELLED = "cancelled", _("已取消")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="document_imports"
    )
    file = models.FileField(
        storage=imports_storage, upload_to="imports/%Y/%m/", max_length=255, blank=True
    )
    original_name = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ANALYSING)
    summary = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, default="")
    title = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True, default="")
    target = models.ForeignKey(
        Section, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    manual = models.ForeignKey(
        Manual, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A small upload is analysed and imported inside the web request: the process doing it
    # (``host:pid:start``, manuals.workers) and since when, so that the workers' recovery
    # can fail the job if that process dies. Blank when a worker's task runs it.
    runner = models.CharField(max_length=64, blank=True, default="")
    runner_since = models.DateTimeField(null=True, blank=True)

    objects = DocumentImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("文档导入")
        verbose_name_plural = _("文档导入")

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED}


class ExcellentCase(models.Model):
    """A section a lead marked as 优秀案例, for training and quality scoring."""

    section = models.OneToOneField(Section, on_delete=models.CASCADE, related_name="excellent")
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.CharField(_("推荐理由"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("优秀案例")
        verbose_name_plural = _("优秀案例")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.section)


@dataclass(slots=True)
class OutlinePosition:
    """A row of an outline with only what nest() and walk() need."""

    pk: int
    lft: int
    rght: int


def walk(sections: Iterable[T]) -> Iterator[tuple[T, list[T]]]:
    """Each section (given in tree order) with its shown ancestors, outermost first.

    Only the given sections count: one whose parent was left out (not readable, trashed,
    not printed) hangs under its nearest ancestor that is there, so depths never skip.
    Rows may be Section instances or ``values()`` dicts with ``lft`` and ``rght``.
    """
    open_: list[tuple[int, T]] = []  # (rght, section) of the ancestors still open
    for section in sections:
        lft, rght = (
            (section["lft"], section["rght"])
            if isinstance(section, dict)
            else (section.lft, section.rght)
        )
        while open_ and open_[-1][0] < lft:
            open_.pop()
        yield section, [s for _r, s in open_]
        open_.append((rght, section))


def nest(sections: Iterable[T]) -> list[tuple[T, int]]:
    """Pair each section (in tree order) with its depth among the given ones (1 = top)."""
    return [(section, len(above) + 1) for section, above in walk(sections)]
