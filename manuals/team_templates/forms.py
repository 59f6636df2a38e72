"""Forms of the team-template pages: a new template, a decision on one template update."""

from django import forms
from django.utils.translation import gettext_lazy as _

from manuals.models import TITLE_MAX_LENGTH
from manuals.team_templates.sync import CHOICES


class NewTemplateForm(forms.Form):
    title = forms.CharField(label=_("模板名称"), max_length=TITLE_MAX_LENGTH)
    start_from = forms.ChoiceField(
        label=_("起点"),
        choices=[("default", _("默认模板内容（四章与常用表格）")), ("blank", _("只有四个空章节"))],
        initial="default",
    )


class UpdateDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("accept", "accept"), ("skip", "skip")])
    template_version = forms.IntegerField(min_value=1)
    # The copy's version when the diff was shown; absent for a section new to the manual.
    version = forms.IntegerField(min_value=1, required=False)
    choice = forms.ChoiceField(
        choices=[(c, c) for c in CHOICES], required=False, initial=CHOICES[0]
    )
