"""Print editions (one PDF of a manual, rendered in the background) and team schedules."""

from __future__ import annotations

import calendar
from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from manuals.models import Manual, Member, Section, Team, member_of
from manuals.storage import editions_storage
from printing.theming import available_themes


def edition_path(instance: Edition, filename: str) -> str:
    return f"{instance.manual_id}/{filename}"


class Paper(models.TextChoices):
    A4 = "A4", "A4"
    A5 = "A5", "A5"


class Scope(models.TextChoices):
    ALL = "all", _("全部章节")
    SHARED = "shared", _("仅团队共享的章节")


class EditionQuerySet(models.QuerySet):
    def readable_by(self, user) -> EditionQuerySet:
        """Editions of readable manuals; one of all sections (not only the shared ones) only
        for the manual's owner and the team's leads."""
        member = member_of(user)
        if member is None:
            return self.none()
        visible = self.filter(manual__in=Manual.objects.readable_by(user))
        # What an edition holds: the shared sections (team), a template (team), or every
        # section its requester could read. A scheduled run or the owner's own print of
        # all sections holds private ones: the owner's alone.
        readable = Q(manual__owner_id=user.pk) | Q(scope=Scope.SHARED) | Q(manual__is_template=True)
        if member.is_lead:
            printed_by_a_lead = Q(
                requested_by__member__role=Member.Role.LEAD,
                requested_by__member__team_id=member.team_id,
            ) & ~Q(requested_by_id=F("manual__owner_id"))
            readable |= printed_by_a_lead
        return visible.filter(readable)

    def active(self) -> EditionQuerySet:
        return self.filter(status__in=[Edition.Status.QUEUED, Edition.Status.RENDERING])


class Edition(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RENDERING = "rendering", _("正在生成")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    manual = models.ForeignKey(Manual, on_delete=models.CASCADE, related_name="editions")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    schedule = models.ForeignKey(
        "PrintSchedule", on_delete=models.SET_NULL, null=True, blank=True, related_name="editions"
    )
    title = models.CharField(_("印刷版标题"), max_length=200, blank=True, default="")
    theme = models.CharField(_("主题"), max_length=50, default="plain")
    paper = models.CharField(_("纸张"), max_length=2, choices=Paper.choices, default=Paper.A5)
    scope = models.CharField(_("范围"), max_length=10, choices=Scope.choices, default=Scope.ALL)
    subtree = models.ForeignKey(
        Section, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("只打印这一章"),
    )  # fmt: skip
    image_style = models.CharField(_("图片风格"), max_length=20, blank=True, default="")
    # The booklet's own words (contents, chapter labels) are in the requester's language;
    # a scheduled run has no requester and uses the site's (settings.LANGUAGE_CODE).
    language = models.CharField(
        _("语言"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_note = models.CharField(max_length=200, blank=True, default="")
    failure_reason = models.TextField(blank=True, default="")
    file = models.FileField(storage=editions_storage, upload_to=edition_path, blank=True)
    page_count = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)
    chapters_rendered = models.PositiveIntegerField(default=0)
    chapters_cached = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = EditionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("印刷版")
        verbose_name_plural = _("印刷版")

    def __str__(self) -> str:
        return f"{self.manual} #{self.pk}"

    @property
    def theme_name(self) -> str:
        """The theme's name in the reader's language (its folder name once it is gone)."""
        theme = available_themes().get(self.theme)
        return theme.display_name if theme else self.theme

    @property
    def is_active(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RENDERING}

    def options(self):
        from printing.booklet import BookletOptions

        return BookletOptions(
            theme=self.theme,
            paper=self.paper,
            scope=self.scope,
            subtree_id=self.subtree_id,
            title=self.title,
            image_style=self.image_style,
        )

    def same_options(self) -> Q:
        return Q(
            manual_id=self.manual_id, theme=self.theme, paper=self.paper, scope=self.scope,
            subtree_id=self.subtree_id, title=self.title, image_style=self.image_style,
            language=self.language,
        )  # fmt: skip


class PrintSchedule(models.Model):
    """A lead's standing order: print every live manual of the team (not its templates or
    archived manuals) every month, quarter, half-year or year."""

    class Every(models.TextChoices):
        MONTH = "month", _("每月")
        QUARTER = "quarter", _("每季度")
        HALF_YEAR = "half-year", _("每半年")
        YEAR = "year", _("每年")

    MONTHS = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="print_schedule")
    every = models.CharField(_("周期"), max_length=10, choices=Every.choices, default=Every.QUARTER)
    theme = models.CharField(_("主题"), max_length=50, default="plain")
    paper = models.CharField(_("纸张"), max_length=2, choices=Paper.choices, default=Paper.A5)
    scope = models.CharField(_("范围"), max_length=10, choices=Scope.choices, default=Scope.ALL)
    next_run_at = models.DateTimeField(_("下次打印"))
    # The lead's day of the month (in the site's time zone): a run moved to a short month's
    # last day (31 → 30 April) goes back to it in the months that have it.
    day_of_month = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("定期打印")
        verbose_name_plural = _("定期打印")

    def __str__(self) -> str:
        return f"{self.team} {self.every}"

    def run_next_at(self, when: datetime) -> None:
        """The lead chose the next run; the runs after it fall on the same day of the month."""
        self.next_run_at = when
        self.day_of_month = timezone.localtime(when, timezone.get_default_timezone()).day

    def following(self, after: datetime) -> datetime:
        """The first run later than ``after``, ``every`` months on from ``next_run_at``.

        Counted in the site's time zone: on ``day_of_month`` (or the month's last day, if it
        is shorter) at the local time of day of ``next_run_at``, whatever the UTC offset then.
        """
        zone = timezone.get_default_timezone()
        start = timezone.localtime(self.next_run_at, zone)
        step = self.MONTHS[self.every]
        when, months = self.next_run_at, 0
        while when <= after:
            months += step
            years, month_index = divmod(start.month - 1 + months, 12)
            year, month = start.year + years, month_index + 1
            day = min(self.day_of_month, calendar.monthrange(year, month)[1])
            when = start.replace(year=year, month=month, day=day)
        return when

    @staticmethod
    def due(now=None):
        now = now or timezone.now()
        return PrintSchedule.objects.filter(enabled=True, next_run_at__lte=now)
