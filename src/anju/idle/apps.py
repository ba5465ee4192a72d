from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdleConfig(AppConfig):
    name = "anju.idle"
    label = "idle"
    verbose_name = _("闲置危房")
