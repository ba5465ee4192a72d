from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResponsibilityConfig(AppConfig):
    name = "anju.responsibility"
    label = "responsibility"
    verbose_name = _("责任体系")
