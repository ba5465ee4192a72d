from ninja import Router

router = Router(tags=["培训台账"])
