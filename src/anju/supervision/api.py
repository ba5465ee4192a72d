from ninja import Router

router = Router(tags=["督导考核"])
