from django.utils.translation import gettext_lazy as _
from ninja import Router

requests_router = Router(tags=[_("疑似危房与鉴定申请")])
router = Router(tags=[_("鉴定")])
