from ninja import Router

router = Router(tags=["闲置危房"])
