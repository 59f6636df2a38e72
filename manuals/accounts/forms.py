from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from manuals.accounts.hiring import MAX_CSV_ROWS, HireRow
from manuals.models import Member


class HireForm(forms.Form):
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        validators=[get_user_model().username_validator],
        help_text=_("登录用，字母、数字和 @.+-_"),
    )
    display_name = forms.CharField(label=_("显示名"), max_length=100)
    role = forms.ChoiceField(label=_("角色"), choices=Member.Role.choices, initial="agent")
    email = forms.EmailField(label=_("邮箱（可选）"), required=False)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("这个用户名已被占用。"))
        return username

    def row(self) -> HireRow:
        data = self.cleaned_data
        return HireRow(data["username"], data["display_name"].strip(), data["role"], data["email"])


class HiresCsvForm(forms.Form):
    file = forms.FileField(
        label=_("CSV 文件"),
        help_text=_("每行：用户名,显示名[,角色 agent/lead][,邮箱]；最多 %(n)d 行。")
        % {"n": MAX_CSV_ROWS},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 1024 * 1024:
            raise forms.ValidationError(_("文件太大（最多 1 MB）。"))
        return upload
