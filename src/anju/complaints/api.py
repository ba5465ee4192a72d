from ninja import Router

router = Router(tags=["信访与舆情"])
publicity_router = Router(tags=["信访与舆情"])
