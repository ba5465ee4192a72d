from django.utils.translation import gettext_lazy as _
from ninja import Router

router = Router(tags=[_("核查批次")])
