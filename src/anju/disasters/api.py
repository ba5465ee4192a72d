from ninja import Router

router = Router(tags=["灾害与特殊时期"])
