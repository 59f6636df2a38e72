"""Forms of copy, handover, transfer and archive."""

from django import forms
from django.utils.translation import gettext_lazy as _


class CopySectionForm(forms.Form):
    """Where in my manual a colleague's section goes: ``destination`` is "MANUAL:SECTION"
    (under that section) or "MANUAL:" (a new chapter at the end)."""

    destination = forms.RegexField(regex=r"^\d+:\d*$")
    with_children = forms.BooleanField(required=False, initial=True)

    def clean(self):
        data = super().clean()
        if "destination" in data:
            manual, _sep, parent = data["destination"].partition(":")
            data["manual"] = int(manual)
            data["parent"] = int(parent) if parent else None
        return data


class HandoverForm(forms.Form):
    section = forms.IntegerField(label=_("交接的章节"))
    to_manual = forms.IntegerField(label=_("交给"))
    mode = forms.ChoiceField(
        label=_("方式"),
        choices=[("copy", _("复制（我这里保留一份）")), ("move", _("移交（从我的手册移到对方）"))],
        initial="copy",
    )
    note = forms.CharField(label=_("交接说明"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=2000, required=False)  # fmt: skip


class TransferForm(forms.Form):
    successor = forms.IntegerField(label=_("接手的同事"))
    note = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=2000, required=False)  # fmt: skip
    reopen = forms.BooleanField(required=False)  # only offered for an archived manual


class ArchiveForm(forms.Form):
    note = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=2000, required=False)  # fmt: skip
