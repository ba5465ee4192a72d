"""The upload form of the web import: which kind of file, and the file itself (its shape only; the engine reads it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.web.forms import style_form

from .reader import SUFFIXES

MAX_UPLOAD_MB = 100
#: the first bytes of an .xlsx (a zip) and an .xls (an OLE compound file); a renamed other file is refused at once
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("数据类型"), widget=forms.RadioSelect)
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=format_lazy(gettext_lazy("支持 .xlsx、.xls、.csv（UTF-8 或 GBK），不超过 {mb} MB"), mb=MAX_UPLOAD_MB),
        widget=forms.FileInput(attrs={"accept": ",".join(SUFFIXES)}),
    )

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0][0]
        style_form(self)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        if suffix not in SUFFIXES:
            raise forms.ValidationError(
                _("不支持的文件类型「{suffix}」，请上传 .xlsx、.xls 或 .csv 文件").format(suffix=suffix or upload.name)
            )
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("文件过大（{size:.0f} MB），最大 {mb} MB；请分成几个文件上传").format(
                    size=upload.size / 1024 / 1024, mb=MAX_UPLOAD_MB
                )
            )
        upload.seek(0)
        head = upload.read(8)
        upload.seek(0)
        if suffix != ".csv" and not head.startswith(WORKBOOK_MAGIC):
            raise forms.ValidationError(
                _("文件扩展名是{suffix}，但内容不是Excel表格（可能已损坏，或是改了扩展名的其他文件）").format(
                    suffix=suffix
                )
            )
        return upload
