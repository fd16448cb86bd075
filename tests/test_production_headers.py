"""Headers production needs (issue 15): HSTS when APP_ENV=production, and `Cache-Control: no-store` on everything a
signed-in user is shown and on every private download, so a shared computer's cache or Back button does not show
the next person someone else's workbench or files. Public things (anonymous pages, catalog images, the open API,
static assets) keep what they had."""
import pytest

from marketplace.extensions import db
from marketplace.models import ServiceImage

from .conftest import Auth

HSTS = "max-age=31536000; includeSubDomains"


def not_stored(response) -> bool:
    return response.cache_control.no_store and not response.cache_control.public


def test_production_answers_carry_hsts(app, client):
    app.config["PRODUCTION"] = True
    for path in ("/", "/auth/login", "/no-such-page", "/static/vendor/htmx.min.js"):
        assert client.get(path).headers["Strict-Transport-Security"] == HSTS, path


def test_development_answers_carry_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


@pytest.mark.parametrize("path", ["/me", "/", "/services", "/auth/password", "/no-such-page"])
def test_every_page_a_signed_in_user_sees_is_not_stored(client, auth, enterprise, path):
    auth.login(enterprise)
    assert not_stored(client.get(path))


def test_a_fragment_for_a_signed_in_user_is_not_stored(client, auth, enterprise, listed_service):
    auth.login(enterprise)
    response = client.get("/services", headers={"HX-Request": "true"})
    assert response.status_code == 200 and not_stored(response)


@pytest.mark.parametrize("path", ["/", "/services", "/auth/login"])
def test_anonymous_pages_keep_their_caching(client, path):
    assert "no-store" not in client.get(path).headers.get("Cache-Control", "")


def test_static_assets_stay_cacheable_for_signed_in_users(client, auth, enterprise):
    auth.login(enterprise)
    response = client.get("/static/vendor/htmx.min.js")
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_a_private_file_is_not_stored(client, auth, make, enterprise):
    stored = make.stored_pdf(enterprise)
    auth.login(enterprise)
    response = client.get(f"/files/{stored.id}")
    assert response.status_code == 200 and not_stored(response)


def test_a_public_catalog_image_stays_cacheable(app, make, listed_service, provider):
    image = make.stored_png(provider)
    db.session.add(ServiceImage(service_id=listed_service.id, file_id=image.id))
    db.session.commit()
    anonymous, signed_in = app.test_client(), app.test_client()
    Auth(signed_in).login(make.enterprise())
    for client in (anonymous, signed_in):
        response = client.get(f"/files/{image.id}")
        assert response.status_code == 200 and "public" in response.headers["Cache-Control"]


def test_every_export_is_not_stored(client, auth, make, reviewer):
    auth.login(reviewer)
    for path in ("/admin/stats/providers.xlsx", "/admin/kexiao/sample.csv"):
        response = client.get(path)
        assert response.status_code == 200 and "Content-Disposition" in response.headers, path
        assert not_stored(response), path


def test_the_voucher_sheet_pdf_is_not_stored(client, auth, make, enterprise):
    application = make.voucher_application(enterprise)
    auth.login(enterprise)
    response = client.get(f"/me/vouchers/{application.year}/sheet.pdf")
    assert response.status_code == 200 and not_stored(response)
