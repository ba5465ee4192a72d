from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisastersConfig(AppConfig):
    name = "anju.disasters"
    label = "disasters"
    verbose_name = _("灾害与特殊时期")
