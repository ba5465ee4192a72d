from django.utils.translation import gettext_lazy as _
from ninja import Router

alerts_router = Router(tags=[_("预警")])
monitoring_router = Router(tags=[_("动态监测对象")])
