"""Chinese error pages; fragment requests get a short fragment instead of a whole page."""
import json

from flask import Flask, Response, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, HTTPException, NotFound

from .db import db
from .htmx import is_htmx

API_PREFIX = "/api/"
MESSAGES = {
    400: ("请求有误", "提交的内容无法处理，请返回重试。"),
    401: ("请先登录", "该操作需要登录。"),
    403: ("没有权限", "您没有权限访问此页面或执行此操作。"),
    404: ("页面不存在", "您访问的页面不存在或已被移除。"),
    405: ("请求方式不支持", "该地址不支持此请求方式。"),
    409: ("操作冲突", "该记录的状态已变化，此操作不可执行，请刷新页面后查看。"),
    413: ("文件过大", "上传的内容超过了大小限制。"),
    429: ("操作过于频繁", "请稍后再试。"),
    500: ("系统繁忙", "服务器出现错误，我们已记录，请稍后再试。"),
    503: ("系统繁忙", "系统繁忙，请稍后再试。"),
}


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, (str(code), "请求无法完成。"))
    if request.path.startswith(API_PREFIX):
        # The open-data API answers in JSON, also for paths it lacks (404) and methods it refuses (405).
        return json_response({"error": detail or message}, code)
    # The 500 page stands alone: the layout queries the database, which may be what failed.
    template = "errors/fragment.html" if is_htmx() else "errors/500.html" if code == 500 else "errors/page.html"
    return render_template(template, code=code, title=title, message=detail or message), code


def forbidden(detail: str) -> Forbidden:
    error = Forbidden()
    error.chinese_detail = detail
    return error


def not_found(detail: str) -> NotFound:
    error = NotFound()
    error.chinese_detail = detail
    return error


def json_response(data: dict, status: int = 200) -> Response:
    """UTF-8 JSON with Chinese as is; readable from any origin (also the answers above, which the API
    blueprint's after_request never sees)."""
    response = current_app.response_class(json.dumps(data, ensure_ascii=False), status=status,
                                          content_type="application/json; charset=utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        return render_error(400, "页面已过期或缺少安全令牌，请刷新页面后重试。")

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if e.code in MESSAGES:
            return render_error(e.code, getattr(e, "chinese_detail", None))
        return e

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        app.logger.exception("unhandled error")
        db.session.rollback()
        return render_error(500)
