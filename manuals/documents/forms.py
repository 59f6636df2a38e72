"""Forms of the import flow: the upload, and where the previewed document goes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from manuals.models import TITLE_MAX_LENGTH, Section


class ImportUploadForm(forms.Form):
    document = forms.FileField(
        label=_("文档"),
        help_text=_(
            "Word 文档（.docx）、Markdown（.md，或连同图片打包的 .zip）或烂笔头手册归档（.zip）"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".docx,.md,.markdown,.txt,.zip"}),
    )


class ImportDestinationForm(forms.Form):
    """Where the previewed document goes: a new manual, or under a section I may edit."""

    destination = forms.ChoiceField(
        label=_("导入到"),
        choices=[("new", _("新建一本手册")), ("existing", _("已有手册的某一节下面"))],
        widget=forms.RadioSelect,
        initial="new",
    )
    title = forms.CharField(label=_("新手册的标题"), max_length=TITLE_MAX_LENGTH, required=False)
    target = forms.ChoiceField(label=_("放在"), required=False)

    def __init__(self, *args, manuals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sections: dict[str, Section] = {}
        groups = []
        for manual in manuals:
            options = [(f"s{manual.root_id}", _("（作为新的一级章节，放在最后）"))]
            self.sections[f"s{manual.root_id}"] = None
            for section in manual.outline():
                options.append((f"s{section.pk}", "　" * (section.level - 1) + section.title))
                self.sections[f"s{section.pk}"] = section
            groups.append((manual.title, options))
        self.fields["target"].choices = [("", "—")] + groups

    def clean(self):
        data = super().clean()
        if data.get("destination") == "new":
            data["target"] = None
            return data
        key = data.get("target") or ""
        if key not in self.sections:
            raise forms.ValidationError(_("请选择要放在哪本手册的哪一节下面。"))
        data["target_id"] = int(key[1:])
        return data
