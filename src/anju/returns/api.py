from ninja import Router

router = Router(tags=["重新申请与返乡户"])
