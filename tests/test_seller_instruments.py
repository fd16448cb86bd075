"""仪器管理: a provider's instruments, their images and status, and what search finds through them."""
import io

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, Instrument, InstrumentStatus, ShopStatus

from .conftest import sign_in_as
from .test_seller_services import HTMX, found, fresh, upload


def instrument_data(reference, **overrides) -> dict:
    data = {"name": "场发射扫描电子显微镜", "manufacturer": "日立", "model": "SU8010",
            "location": "徐州市云龙区实验楼201", "original_value": "1,500,000", "field_id": str(reference["field"]),
            "status": "available", "description": "冷场发射电子枪，分辨率1.0nm"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_instrument(client, reference, path="/seller/instruments/new", **overrides):
    return client.post(path, data=instrument_data(reference, **overrides), content_type="multipart/form-data")


def only_instrument() -> Instrument:
    fresh()
    return db.session.scalars(select(Instrument)).one()


@pytest.fixture
def seller(client, auth, provider):
    auth.login(provider)
    return provider


@pytest.fixture
def instrument(provider) -> Instrument:
    instrument = Instrument(provider=provider.provider, name="X射线衍射仪", manufacturer="布鲁克", model="D8 ADVANCE",
                            original_value_fen=80_000_000)
    db.session.add(instrument)
    db.session.commit()
    return instrument


def test_provider_registers_an_instrument_with_images(client, seller, reference):
    response = post_instrument(client, reference, images=[upload("正面.png"), upload("侧面.jpg", kind="JPEG")])
    assert response.status_code == 303 and response.headers["Location"] == "/seller/instruments"
    instrument = only_instrument()
    assert (instrument.provider_id, instrument.name, instrument.manufacturer, instrument.model) == (
        seller.provider.id, "场发射扫描电子显微镜", "日立", "SU8010")
    assert (instrument.original_value_fen, instrument.field_id, instrument.status) == (150_000_000, reference["field"],
                                                                                       "available")
    assert [image.file.original_name for image in instrument.images] == ["正面.png", "侧面.jpg"]
    assert all(image.file.width == image.file.height for image in instrument.images)


def test_the_list_shows_value_in_yuan_and_marks_large_instruments(client, seller, instrument):
    small = Instrument(provider=seller.provider, name="电子天平", original_value_fen=29_999_999)
    db.session.add(small)
    db.session.commit()
    page = client.get("/seller/instruments").get_data(as_text=True)
    assert "800,000.00" in page and "299,999.99" in page and "D8 ADVANCE" in page and "布鲁克" in page
    assert page.count("大型仪器</span>") == 1 and "可预约" in page


def test_an_empty_list_invites_to_register_an_instrument(client, seller):
    page = client.get("/seller/instruments").get_data(as_text=True)
    assert "还没有登记仪器" in page and 'href="/seller/instruments/new"' in page


@pytest.mark.parametrize("overrides, message", [
    ({"name": ""}, "请填写仪器名称"),
    ({"original_value": ""}, "请填写仪器原值（元）"),
    ({"original_value": "100.001"}, "金额最多保留两位小数"),
    ({"original_value": "-5"}, "金额不能为负数"),
    ({"status": "broken"}, "请选择仪器状态"),
    ({"field_id": "999999"}, "请选择所属领域"),
])
def test_instrument_rules_refuse_bad_input_and_keep_what_was_typed(client, seller, reference, overrides, message):
    response = post_instrument(client, reference, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert "冷场发射电子枪，分辨率1.0nm" in page
    fresh()
    assert db.session.scalars(select(Instrument)).first() is None


def test_more_than_five_instrument_images_are_refused(client, seller, reference):
    response = post_instrument(client, reference, images=[upload(f"{n}.png") for n in range(6)])
    assert response.status_code == 422 and "仪器图片最多5张" in response.get_data(as_text=True)


def test_a_non_image_is_refused_and_the_good_image_is_kept(client, seller, reference):
    response = post_instrument(client, reference,
                               images=[upload("好图.png"), (io.BytesIO(b"PK\x03\x04zip"), "坏图.jpg")])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "坏图.jpg：图片无法识别，请上传JPG或PNG图片" in page and "好图.png" in page and "SU8010" in page


def test_the_edit_form_keeps_the_saved_values(client, seller, instrument, reference):
    page = client.get(f"/seller/instruments/{instrument.id}/edit").get_data(as_text=True)
    assert 'value="800000.00"' in page and "D8 ADVANCE" in page
    response = post_instrument(client, reference, path=f"/seller/instruments/{instrument.id}/edit",
                               original_value="820000.5", status="maintenance")
    assert response.status_code == 303
    saved = only_instrument()
    assert (saved.original_value_fen, saved.status) == (82_000_050, "maintenance")


def test_status_changes_over_htmx_return_the_row_and_are_audited(client, seller, instrument):
    response = client.post(f"/seller/instruments/{instrument.id}/status", data={"status": "maintenance"},
                           headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith(f'<tr id="instrument-{instrument.id}"')
    assert '<option value="maintenance" selected>' in body
    assert only_instrument().status == InstrumentStatus.MAINTENANCE
    entry = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "instrument")).one()
    assert (entry.action, entry.from_state, entry.to_state) == ("status", "available", "maintenance")


def test_status_changes_without_javascript_redirect_back(client, seller, instrument):
    response = client.post(f"/seller/instruments/{instrument.id}/status", data={"status": "retired"})
    assert response.status_code == 303 and response.headers["Location"] == "/seller/instruments"
    assert only_instrument().status == InstrumentStatus.RETIRED
    assert client.post(f"/seller/instruments/{instrument.id}/status", data={"status": "gone"}).status_code == 400


def test_renaming_an_instrument_updates_what_search_finds_for_its_services(client, seller, reference, make):
    service = make.service(seller.provider, name="材料表面形貌观察")
    assert not found(client, "XE7", "材料表面形貌观察")
    response = post_instrument(client, reference, path=f"/seller/instruments/{service.instrument_id}/edit",
                               name="原子力显微镜", model="XE7", manufacturer="Park")
    assert response.status_code == 303
    assert found(client, "XE7", "材料表面形貌观察") and found(client, "原子力", "材料表面形貌观察")


def test_instrument_images_become_public_when_the_shop_is_open(client, auth, make, reference):
    applicant = make.provider(shop_status=ShopStatus.DRAFT)
    auth.login(applicant)
    post_instrument(client, reference, images=[upload("仪器.png")])
    file_id = only_instrument().images[0].file_id
    auth.logout()
    assert client.get(f"/files/{file_id}").status_code == 404
    applicant.provider.status = ShopStatus.OPEN
    db.session.commit()
    with client.get(f"/files/{file_id}") as response:
        assert response.status_code == 200


def test_a_removed_provider_cannot_register_instruments(client, auth, make, reference):
    removed = make.provider(shop_status=ShopStatus.REMOVED)
    auth.login(removed)
    response = post_instrument(client, reference)
    assert response.status_code == 403 and "清退" in response.get_data(as_text=True)
    assert client.get("/seller/instruments").status_code == 200


INSTRUMENT_ROUTES = [("get", "/seller/instruments"), ("get", "/seller/instruments/new"),
                     ("post", "/seller/instruments/new"), ("get", "/seller/instruments/{id}/edit"),
                     ("post", "/seller/instruments/{id}/edit"), ("post", "/seller/instruments/{id}/status")]


@pytest.mark.parametrize("who, expected", [("anonymous", 302), ("enterprise", 403), ("individual", 403),
                                           ("reviewer", 403), ("pending_provider", 403)])
@pytest.mark.parametrize("method, path", INSTRUMENT_ROUTES)
def test_only_approved_providers_reach_instrument_management(client, auth, make, instrument, reference, who,
                                                             expected, method, path):
    sign_in_as(auth, make, who)
    response = getattr(client, method)(path.format(id=instrument.id), data=instrument_data(reference, status="retired"))
    assert response.status_code == expected
    assert only_instrument().status == InstrumentStatus.AVAILABLE


@pytest.mark.parametrize("method, path", [route for route in INSTRUMENT_ROUTES if "{id}" in route[1]])
def test_a_provider_cannot_touch_another_providers_instrument(client, auth, make, instrument, reference, method,
                                                             path):
    auth.login(make.provider())
    response = getattr(client, method)(path.format(id=instrument.id), data=instrument_data(reference, name="改掉"),
                                       content_type="multipart/form-data")
    assert response.status_code == 404
    assert only_instrument().name == "X射线衍射仪"
