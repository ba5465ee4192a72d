from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "anju.returns"
    label = "returns"
    verbose_name = _("重新申请与返乡户")
