from django import forms
from django.utils.translation import gettext_lazy as _
from django_prose_editor.fields import ProseEditorFormField

from manuals.models import BODY_MAX_CHARS, TITLE_MAX_LENGTH, Section
from manuals.sanitize import sanitize_html
from manuals.tree import POSITIONS, SectionContent

# What the editor toolbar offers; the server-side sanitiser (manuals.sanitize) is the
# authority on what is stored, whatever the browser sends.
EDITOR_EXTENSIONS = {
    "Bold": True,
    "Italic": True,
    "Underline": True,
    "Strike": True,
    "Subscript": True,
    "Superscript": True,
    "Heading": {"levels": [2, 3, 4]},
    "BulletList": True,
    "ListItem": True,
    "OrderedList": True,
    "Blockquote": True,
    "HorizontalRule": True,
    "HardBreak": True,
    "Link": {"enableTarget": True},
    "Table": True,
    "TableRow": True,
    "TableHeader": True,
    "TableCell": True,
    "Image": True,
    "Figure": True,
    "Caption": True,
    "Code": True,
    "History": True,
    "HTML": True,
}


class TitledForm(forms.Form):
    """A section title: whitespace folded, empty and over-long titles explained."""

    title = forms.CharField(label=_("标题"), max_length=TITLE_MAX_LENGTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].error_messages["max_length"] = _(
            "标题太长：最多 %(limit_value)d 个字符，现在是 %(show_value)d 个。"
        )
        self.fields["title"].error_messages["required"] = _("标题不能为空。")

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError(_("标题不能为空。"))
        return title


class SectionForm(TitledForm):
    kind = forms.ChoiceField(label=_("类型"), choices=Section.Kind.choices)
    visibility = forms.ChoiceField(label=_("可见范围"), choices=Section.Visibility.choices)
    body = ProseEditorFormField(
        label=_("正文"), required=False, config={"extensions": EDITOR_EXTENSIONS}
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean_body(self) -> str:
        body = sanitize_html(self.cleaned_data.get("body", ""))
        if len(body) > BODY_MAX_CHARS:
            # The text stays in the editor: the page is shown again with this message.
            raise forms.ValidationError(
                _("正文太长：最多 %(max)d 个字符，现在是 %(n)d 个。请把它拆成几节再保存。")
                % {"max": BODY_MAX_CHARS, "n": len(body)}
            )
        return body

    def content(self) -> SectionContent:
        data = self.cleaned_data
        return SectionContent(
            title=data["title"], body=data["body"], kind=data["kind"], visibility=data["visibility"]
        )

    @classmethod
    def for_section(cls, section: Section) -> "SectionForm":
        return cls(
            initial={
                "title": section.title,
                "kind": section.kind,
                "visibility": section.visibility,
                "body": section.body,
                "version": section.version,
            }
        )


class NewSectionForm(TitledForm):
    kind = forms.ChoiceField(
        label=_("类型"), choices=Section.Kind.choices, initial=Section.Kind.NOTE
    )
    visibility = forms.ChoiceField(
        label=_("可见范围"),
        choices=Section.Visibility.choices,
        initial=Section.Visibility.PRIVATE,
    )
    target = forms.IntegerField(required=False, widget=forms.HiddenInput)
    position = forms.ChoiceField(
        label=_("位置"),
        required=False,
        choices=[
            ("last-child", _("作为子章节")),
            ("right", _("作为下一个同级章节")),
        ],
        initial="last-child",
    )


class MoveForm(forms.Form):
    target = forms.IntegerField()
    position = forms.ChoiceField(choices=[(p, p) for p in sorted(POSITIONS)])
