from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema

from .services import token_for_credentials

router = Router(tags=[_("认证")])


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str


@router.post(
    "/token",
    auth=None,
    response=TokenOut,
    url_name="auth_token",
    description=_("用户名和密码换取接口令牌（与网页登录同样受失败锁定保护）。"),
)
def auth_token(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    """Exchange a username and password for an API token (user-facing text: `description`)."""
    return {"token": token_for_credentials(request=request, username=payload.username, password=payload.password)}
