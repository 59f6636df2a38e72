from django import forms
from django.utils.translation import gettext_lazy as _

from printing.booklet import BookletOptions
from printing.models import Paper, PrintSchedule, Scope
from printing.print_images import STYLES
from printing.theming import DEFAULT_THEME, theme_choices


class PrintForm(forms.Form):
    theme = forms.ChoiceField(label=_("主题"), choices=theme_choices, initial=DEFAULT_THEME)
    paper = forms.ChoiceField(label=_("纸张"), choices=Paper.choices, initial=Paper.A5)
    scope = forms.ChoiceField(label=_("范围"), choices=Scope.choices, initial=Scope.ALL)
    subtree = forms.TypedChoiceField(
        label=_("打印哪些章节"), coerce=int, required=False, empty_value=None
    )
    title = forms.CharField(label=_("印刷版标题"), max_length=200, required=False)
    image_style = forms.ChoiceField(
        label=_("图片风格"),
        required=False,
        choices=[("", _("跟随主题")), *STYLES.items()],
    )

    def __init__(self, *args, outline=(), can_print_all=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subtree"].choices = [("", _("整本手册"))] + [
            (s.pk, "　" * (s.level - 1) + s.title) for s in outline
        ]
        if not can_print_all:
            self.fields["scope"].choices = [(Scope.SHARED, Scope.SHARED.label)]
            self.fields["scope"].initial = Scope.SHARED

    def options(self) -> BookletOptions:
        data = self.cleaned_data
        return BookletOptions(
            theme=data["theme"],
            paper=data["paper"],
            scope=data["scope"],
            subtree_id=data["subtree"],
            title=data["title"].strip(),
            image_style=data["image_style"],
        )


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = PrintSchedule
        fields = ["every", "theme", "paper", "scope", "next_run_at", "enabled"]
        # The browser's date-time picker speaks ISO whatever the page's language.
        widgets = {
            "next_run_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"] = forms.ChoiceField(label=_("主题"), choices=theme_choices)
