"""服务管理: the 添加服务信息 form, listing states, the provider's list and the reviewer's listing queue."""
import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AuditLog, Category, Instrument, Service, ServiceStatus, ShopStatus, StoredFile
from marketplace.seller.service_forms import normalize_tags

from .conftest import sign_in_as

HTMX = {"HX-Request": "true"}
DESCRIPTION = "利用场发射扫描电子显微镜对材料表面进行高分辨率微观形貌观察与分析并出具报告"  # 38 characters


def image_bytes(size=(300, 200), color=(30, 90, 160), kind="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, kind)
    return out.getvalue()


def upload(name="图.png", **kwargs):
    return io.BytesIO(image_bytes(**kwargs)), name


def form_data(reference, **overrides) -> dict:
    data = {"nature": "instrument_sharing", "name": "场发射扫描电镜形貌分析", "instrument_id": "",
            "description": DESCRIPTION, "service_type": "普通服务", "cycle": "7-10个自然日",
            "has_qualification": "0", "category_id": str(reference["category"]),
            "field_ids": [str(reference["field"])], "price": "400", "price_unit": "元/样品",
            "tags": "电镜，形貌、 SEM", "qualification_desc": "", "standards": "GB/T 16594-2008",
            "sample_requirements": "固体样品，尺寸不超过1cm", "voucher_eligible": "y", "action": "save"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_service(client, reference, path="/seller/services/new", headers=None, **overrides):
    return client.post(path, data=form_data(reference, **overrides), content_type="multipart/form-data",
                       headers=headers or {})


def found(client, query: str, name: str) -> bool:
    """Whether the mall's search lists `name` as a result (not merely mentions it in a flash message)."""
    return f">{name}</a>" in client.get("/services", query_string={"q": query}).get_data(as_text=True)


def fresh() -> None:
    """End the test's own read transaction (SQLite WAL keeps its snapshot) and forget loaded rows."""
    db.session.commit()
    db.session.expire_all()


def only_service() -> Service:
    fresh()
    return db.session.scalars(select(Service)).one()


def service_count() -> int:
    return db.session.scalar(select(func.count(Service.id)))


def audit_trail(service_id) -> list[tuple]:
    rows = db.session.execute(select(AuditLog.action, AuditLog.from_state, AuditLog.to_state)
                              .where(AuditLog.object_type == "service", AuditLog.object_id == str(service_id))
                              .order_by(AuditLog.id))
    return [tuple(row) for row in rows]


@pytest.fixture
def seller(client, auth, provider):
    auth.login(provider)
    return provider


# ---------------------------------------------------------------- the form

def test_provider_adds_a_service_with_every_field_as_a_draft(client, seller, reference):
    response = post_service(client, reference, display_image=upload("展示.png", size=(400, 300)),
                            images=[upload("a.png"), upload("b.jpg", kind="JPEG")], negotiable=None)
    assert response.status_code == 303 and response.headers["Location"] == "/seller/services"
    service = only_service()
    assert (service.status, service.provider_id, service.nature) == (ServiceStatus.DRAFT, seller.provider.id,
                                                                     "instrument_sharing")
    assert (service.price_fen, service.price_unit, service.cycle) == (40000, "元/样品", "7-10个自然日")
    assert service.tags == "电镜,形貌,SEM"
    assert [f.id for f in service.fields] == [reference["field"]] and service.category_id == reference["category"]
    assert service.voucher_eligible and not service.has_qualification
    assert (service.display_image.width, service.display_image.height) == (300, 300)
    assert [image.file.original_name for image in service.images] == ["a.png", "b.jpg"]
    assert "电镜" in service.search_tokens.split()
    assert audit_trail(service.id) == [("create", None, "draft")]


def test_a_service_posted_without_the_optional_fields_is_saved_not_a_500(client, seller, reference):
    response = post_service(client, reference, qualification_desc=None, standards=None, sample_requirements=None)
    assert response.status_code == 303
    service = only_service()
    assert (service.qualification_desc, service.standards, service.sample_requirements) == ("", "", "")


def test_save_and_submit_sends_the_new_service_to_review(client, seller, reference):
    post_service(client, reference, action="submit")
    service = only_service()
    assert service.status == ServiceStatus.PENDING
    assert audit_trail(service.id) == [("create", None, "draft"), ("submit", "draft", "pending")]


def test_the_form_offers_every_field_and_categories_grouped_by_parent(client, seller, reference):
    page = client.get("/seller/services/new").get_data(as_text=True)
    for label in ("服务性质", "服务名称", "仪器名称", "服务描述", "服务类型", "服务周期", "服务是否有资质",
                  "服务展示图", "仪器图片", "服务类别", "服务领域", "服务价格", "面议", "服务标签", "服务资质描述",
                  "检测标准/方法", "样品要求", "创新券标识", "仪器共享服务", "检验检测服务", "技术研发服务",
                  "加急服务"):
        assert label in page, label
    assert re.search(r'<optgroup label="微区分析">\s*<option value="\d+">微观形貌分析</option>', page)
    assert 'enctype="multipart/form-data"' in page and "商品批量检验" in page


@pytest.mark.parametrize("overrides, message", [
    ({"description": "测" * 29}, "服务描述需30-100字，当前29字"),
    ({"description": "测" * 101}, "服务描述需30-100字，当前101字"),
    ({"negotiable": "y", "price": "500"}, "已选择面议，请不要填写价格"),
    ({"price": "12.345"}, "金额最多保留两位小数"),
    ({"price": "一百元"}, "请填写数字金额"),
    ({"price": ""}, "请填写价格，或选择面议"),
    ({"category_id": ""}, "请选择服务类别"),
    ({"category_id": "parent"}, "请选择服务类别"),
    ({"field_ids": None}, "请至少选择一个服务领域"),
    ({"nature": None}, "请选择服务性质"),
    ({"name": ""}, "请填写服务名称"),
    ({"cycle": ""}, "请填写服务周期"),
    ({"has_qualification": "1"}, "有资质的服务请描述资质"),
])
def test_field_rules_refuse_bad_input_and_keep_what_was_typed(client, seller, reference, overrides, message):
    if overrides.get("category_id") == "parent":
        overrides["category_id"] = str(reference["parent"])
    response = post_service(client, reference, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert "GB/T 16594-2008" in page and "固体样品，尺寸不超过1cm" in page
    assert service_count() == 0


@pytest.mark.parametrize("length", [30, 100])
def test_a_description_of_30_to_100_characters_is_accepted(client, seller, reference, length):
    assert post_service(client, reference, description="测" * length).status_code == 303
    assert len(only_service().description) == length


@pytest.mark.parametrize("typed, stored", [("抗疫，电镜、 SEM", "抗疫,电镜,SEM"),
                                           ("Raman  spectra;；XPS", "Raman spectra,XPS"),
                                           ("电镜,电镜, ", "电镜"), ("", "")])
def test_tags_are_stored_with_ascii_commas(typed, stored):
    assert normalize_tags(typed) == stored


def test_price_in_yuan_is_stored_as_integer_fen(client, seller, reference):
    post_service(client, reference, price="1,500.5", price_unit="元/小时")
    assert (only_service().price_fen, only_service().price_unit) == (150050, "元/小时")


def test_negotiable_service_has_no_price(client, seller, reference):
    post_service(client, reference, negotiable="y", price="")
    assert only_service().price_fen is None


def test_voucher_mark_is_forced_off_in_a_category_the_voucher_never_pays_for(client, seller, reference):
    response = post_service(client, reference, category_id=str(reference["excluded"]))
    assert response.status_code == 303
    assert not only_service().voucher_eligible
    assert "已取消创新券标识" in client.get("/seller/services").get_data(as_text=True)


def test_a_service_may_name_only_its_own_providers_instrument(client, seller, reference, make):
    other = make.provider()
    theirs = Instrument(provider=other.provider, name="别家的透射电镜")
    mine = Instrument(provider=seller.provider, name="本单位扫描电镜", model="SU8010")
    db.session.add_all([theirs, mine])
    db.session.commit()
    refused = post_service(client, reference, instrument_id=str(theirs.id))
    assert refused.status_code == 422 and "请选择本单位登记的仪器" in refused.get_data(as_text=True)
    assert "别家的透射电镜" not in refused.get_data(as_text=True)
    assert post_service(client, reference, instrument_id=str(mine.id)).status_code == 303
    service = only_service()
    assert service.instrument_id == mine.id and "su8010" in service.search_tokens.split()


def test_more_than_five_instrument_images_are_refused(client, seller, reference):
    response = post_service(client, reference, images=[upload(f"{n}.png") for n in range(6)])
    assert response.status_code == 422
    assert "仪器图片最多5张" in response.get_data(as_text=True)
    assert service_count() == 0


def test_a_non_image_named_jpg_is_refused_and_the_rest_of_the_form_is_kept(client, seller, reference):
    response = post_service(client, reference, display_image=(io.BytesIO(b"%not an image at all"), "照片.jpg"),
                            images=[upload("仪器.png")], name="X射线光电子能谱分析")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "图片无法识别，请上传JPG或PNG图片" in page
    assert "X射线光电子能谱分析" in page and DESCRIPTION in page and "电镜，形貌、 SEM" in page
    kept = re.search(r'name="images__kept" value="(\d+)"', page)
    assert kept and "仪器.png" in page
    retry = post_service(client, reference, name="X射线光电子能谱分析", images__kept=kept.group(1))
    assert retry.status_code == 303
    assert [image.file_id for image in only_service().images] == [int(kept.group(1))]


def test_display_image_is_reencoded_square_and_served_as_a_200_thumbnail(client, auth, seller, reference, reviewer):
    jpeg_with_metadata = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 40, 40)).save(jpeg_with_metadata, "JPEG", comment=b"secret")
    post_service(client, reference, display_image=(io.BytesIO(jpeg_with_metadata.getvalue()), "展示.jpg"),
                 action="submit")
    service = only_service()
    stored = db.session.get(StoredFile, service.display_image_id)
    assert (stored.width, stored.height) == (480, 480)
    auth.logout()
    assert client.get(f"/files/{stored.id}?thumb=200").status_code == 404  # not public before it is listed
    auth.login(reviewer)
    client.post(f"/admin/listings/{service.id}/approve")
    auth.logout()
    with client.get(f"/files/{stored.id}?thumb=200") as thumb:
        assert thumb.status_code == 200
        with Image.open(io.BytesIO(thumb.data)) as img:
            assert img.size == (200, 200) and "comment" not in img.info


def test_the_description_counter_counts_characters_over_htmx(client, seller):
    response = client.get("/seller/services/description-count", query_string={"description": "测" * 12},
                          headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.startswith('<small id="description-count"')
    assert "已输入 12 字" in body and "over" in body
    assert "over" not in client.get("/seller/services/description-count",
                                    query_string={"description": "测" * 30}).get_data(as_text=True)


def test_the_edit_form_shows_the_saved_values_and_images(client, seller, reference):
    post_service(client, reference, display_image=upload("展示.png"), images=[upload("仪器1.png")],
                 negotiable="y", price="")
    service = only_service()
    page = client.get(f"/seller/services/{service.id}/edit").get_data(as_text=True)
    assert DESCRIPTION in page and "展示.png" in page and "仪器1.png" in page
    assert re.search(r'<input checked[^>]*name="negotiable"', page)
    assert f'/files/{service.display_image_id}?thumb=200' in page


def test_editing_keeps_images_unless_removed(client, seller, reference):
    post_service(client, reference, images=[upload("一.png"), upload("二.png")])
    service = only_service()
    first, second = [image.file_id for image in service.images]
    post_service(client, reference, path=f"/seller/services/{service.id}/edit", images__kept=[str(first), str(second)],
                 images__remove=str(first), name="改名后的服务")
    service = only_service()
    assert service.name == "改名后的服务" and [image.file_id for image in service.images] == [second]


# ---------------------------------------------------------------- listing states

ACTIONS = {"submit": "/seller/services/{id}/submit", "relist": "/seller/services/{id}/relist",
           "delist": "/seller/services/{id}/delist", "delete": "/seller/services/{id}/delete"}
ALLOWED = {("draft", "submit"): "pending", ("rejected", "submit"): "pending", ("delisted", "relist"): "pending",
           ("listed", "delist"): "delisted", ("draft", "delete"): None}


@pytest.mark.parametrize("state", ["draft", "pending", "listed", "rejected", "delisted"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_provider_actions_follow_the_listing_states(client, seller, make, state, action):
    service_id = make.service(seller.provider, status=state).id
    response = client.post(ACTIONS[action].format(id=service_id))
    fresh()
    after = db.session.get(Service, service_id)
    if (state, action) in ALLOWED:
        assert response.status_code == 303
        target = ALLOWED[(state, action)]
        assert (after.status if after else None) == target
        assert audit_trail(service_id)[-1] == (action, state, target)
    else:
        assert response.status_code == 409
        assert "不能" in response.get_data(as_text=True)
        assert after.status == state and audit_trail(service_id) == []


@pytest.mark.parametrize("state", ["draft", "pending", "listed", "rejected", "delisted"])
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_reviewer_decides_only_listings_under_review(client, auth, reviewer, make, provider, state, decision):
    service = make.service(provider.provider, status=state)
    auth.login(reviewer)
    response = client.post(f"/admin/listings/{service.id}/{decision}", data={"reason": "资质描述不完整"})
    fresh()
    after = db.session.get(Service, service.id)
    if state == "pending":
        assert response.status_code == 303
        assert after.status == {"approve": "listed", "reject": "rejected"}[decision]
    else:
        assert response.status_code == 409 and after.status == state


def test_a_row_action_over_htmx_returns_the_updated_row(client, seller, make):
    service = make.service(seller.provider)
    response = client.post(f"/seller/services/{service.id}/delist", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="service-{service.id}"') and "已下架" in body and "重新上架" in body


def test_an_illegal_action_over_htmx_returns_the_row_with_the_reason(client, seller, make):
    service = make.service(seller.provider, status=ServiceStatus.PENDING)
    response = client.post(f"/seller/services/{service.id}/delist", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert body.lstrip().startswith(f'<tr id="service-{service.id}"') and "不能下架" in body


def test_deleting_a_draft_asks_first_without_javascript(client, seller, make):
    service = make.service(seller.provider, status=ServiceStatus.DRAFT, name="待删除的草稿")
    confirm = client.get(f"/seller/services/{service.id}/delete").get_data(as_text=True)
    assert "确定删除服务草稿「<strong>待删除的草稿</strong>」吗" in confirm and 'method="post"' in confirm
    assert db.session.get(Service, service.id) is not None
    listing = client.get("/seller/services").get_data(as_text=True)
    assert 'hx-confirm="确定删除草稿「待删除的草稿」吗' in listing
    response = client.post(f"/seller/services/{service.id}/delete", headers=HTMX)
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert service_count() == 0
    assert audit_trail(service.id) == [("delete", "draft", None)]


def test_editing_a_listed_service_sends_it_back_to_review(client, seller, reference, make):
    service = make.service(seller.provider)
    page = client.get(f"/seller/services/{service.id}/edit").get_data(as_text=True)
    assert "修改并保存后将重新进入上架审核" in page
    post_service(client, reference, path=f"/seller/services/{service.id}/edit", name="改进后的电镜服务")
    fresh()
    after = db.session.get(Service, service.id)
    assert (after.status, after.name) == (ServiceStatus.PENDING, "改进后的电镜服务")
    assert audit_trail(service.id)[-1] == ("edit", "listed", "pending")
    assert not found(client, "改进", "改进后的电镜服务")


def test_a_rejected_service_shows_the_reason_and_can_be_resubmitted_after_edits(client, seller, make, reference):
    service = make.service(seller.provider, status=ServiceStatus.REJECTED, status_reason="价格单位不清楚")
    assert "价格单位不清楚" in client.get("/seller/services").get_data(as_text=True)
    assert "价格单位不清楚" in client.get(f"/seller/services/{service.id}/edit").get_data(as_text=True)
    post_service(client, reference, path=f"/seller/services/{service.id}/edit", action="submit")
    fresh()
    after = db.session.get(Service, service.id)
    assert (after.status, after.status_reason) == (ServiceStatus.PENDING, None)


@pytest.mark.parametrize("shop_status", [ShopStatus.DRAFT, ShopStatus.REJECTED])
def test_a_provider_without_an_open_shop_adds_drafts_but_cannot_submit_them(client, auth, make, reference,
                                                                             shop_status):
    applicant = make.provider(shop_status=shop_status)
    auth.login(applicant)
    assert "保存并提交审核" not in client.get("/seller/services/new").get_data(as_text=True)
    response = post_service(client, reference, action="submit")
    assert response.status_code == 303
    assert only_service().status == ServiceStatus.DRAFT
    assert "随开店申请一并审核" in client.get("/seller/services").get_data(as_text=True)
    refused = client.post(f"/seller/services/{only_service().id}/submit")
    assert refused.status_code == 409 and "店铺开通后才能提交上架审核" in refused.get_data(as_text=True)


@pytest.mark.parametrize("method, path", [("get", "/seller/services/new"), ("post", "/seller/services/new"),
                                          ("get", "/seller/services/{id}/edit"), ("post", "/seller/services/{id}/edit"),
                                          ("post", "/seller/services/{id}/relist"),
                                          ("post", "/seller/services/{id}/delete")])
def test_a_removed_provider_cannot_add_or_relist_services(client, auth, make, reference, method, path):
    removed = make.provider(shop_status=ShopStatus.REMOVED)
    service = make.service(removed.provider, status=ServiceStatus.DELISTED)
    auth.login(removed)
    response = getattr(client, method)(path.format(id=service.id), data=form_data(reference))
    assert response.status_code == 403 and "清退" in response.get_data(as_text=True)
    assert client.get("/seller/services").status_code == 200


# ---------------------------------------------------------------- who may touch what

SELLER_ROUTES = [("get", "/seller/services"), ("get", "/seller/services/new"), ("post", "/seller/services/new"),
                 ("get", "/seller/services/description-count"),
                 ("get", "/seller/services/{id}/edit"), ("post", "/seller/services/{id}/edit"),
                 ("post", "/seller/services/{id}/submit"), ("post", "/seller/services/{id}/relist"),
                 ("post", "/seller/services/{id}/delist"), ("get", "/seller/services/{id}/delete"),
                 ("post", "/seller/services/{id}/delete")]
OWNED_ROUTES = [route for route in SELLER_ROUTES if "{id}" in route[1]]


@pytest.mark.parametrize("who, expected", [("anonymous", 302), ("enterprise", 403), ("individual", 403),
                                           ("reviewer", 403), ("pending_provider", 403)])
@pytest.mark.parametrize("method, path", SELLER_ROUTES)
def test_only_approved_providers_reach_service_management(client, auth, make, listed_service, who, expected,
                                                          method, path):
    sign_in_as(auth, make, who)
    response = getattr(client, method)(path.format(id=listed_service.id))
    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/auth/login")
    fresh()
    assert db.session.get(Service, listed_service.id).status == ServiceStatus.LISTED


@pytest.mark.parametrize("method, path", OWNED_ROUTES)
def test_a_provider_cannot_touch_another_providers_service(client, auth, make, reference, method, path):
    owner = make.provider()
    service = make.service(owner.provider, status=ServiceStatus.DRAFT, name="别家的草稿")
    auth.login(make.provider())
    response = getattr(client, method)(path.format(id=service.id), data=form_data(reference),
                                       content_type="multipart/form-data")
    assert response.status_code == 404
    fresh()
    kept = db.session.get(Service, service.id)
    assert (kept.status, kept.name) == (ServiceStatus.DRAFT, "别家的草稿")


def test_state_changes_need_the_csrf_token(client, seller, make):
    service = make.service(seller.provider)
    assert client.post(f"/seller/services/{service.id}/delist", csrf=False).status_code == 400
    fresh()
    assert db.session.get(Service, service.id).status == ServiceStatus.LISTED


# ---------------------------------------------------------------- 服务管理 list

def test_the_list_shows_each_service_like_the_seeds_screen(client, seller, make):
    make.service(seller.provider, name="多功能圆二色谱仪", price_fen=None)
    make.service(seller.provider, name="环境扫描电镜", status=ServiceStatus.DRAFT)
    page = client.get("/seller/services").get_data(as_text=True)
    assert "多功能圆二色谱仪" in page and "微观形貌分析" in page and "场发射扫描电子显微镜" in page
    assert "上架审核通过" in page and "面议" in page and "服务下架" in page and "删除草稿" in page
    assert 'href="/seller/services/new"' in page


def test_the_list_searches_by_name_category_and_status(client, seller, make):
    make.service(seller.provider, name="冷场发射扫描电镜")
    make.service(seller.provider, name="X射线衍射物相分析", status=ServiceStatus.DRAFT)
    category = db.session.scalars(select(Category).where(Category.name == "微观形貌分析")).first()
    by_name = client.get("/seller/services?name=冷场").get_data(as_text=True)
    assert "冷场发射扫描电镜" in by_name and "X射线衍射物相分析" not in by_name
    by_status = client.get("/seller/services?status=draft").get_data(as_text=True)
    assert "X射线衍射物相分析" in by_status and "冷场发射扫描电镜" not in by_status
    by_parent = client.get(f"/seller/services?category={category.parent_id}").get_data(as_text=True)
    assert "冷场发射扫描电镜" in by_parent


def test_the_list_filter_answers_htmx_with_only_the_list(client, seller, make):
    make.service(seller.provider, name="冷场发射扫描电镜")
    fragment = client.get("/seller/services?name=冷场", headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert "冷场发射扫描电镜" in body and "<html" not in body and "服务状态" in body
    assert "HX-Request" in fragment.headers.get("Vary", "")
    page = client.get("/seller/services?name=冷场").get_data(as_text=True)
    assert "<html" in page and 'hx-push-url="true"' in page


def test_the_list_pages_through_many_services(client, seller, make, app):
    app.config["PER_PAGE"] = 2
    for n in range(5):
        make.service(seller.provider, name=f"分页服务{n}")
    first = client.get("/seller/services").get_data(as_text=True)
    assert first.count('<tr id="service-') == 2 and "共 3 页" in first
    assert client.get("/seller/services?page=3").get_data(as_text=True).count('<tr id="service-') == 1


def test_an_empty_list_invites_to_add_a_service(client, seller):
    page = client.get("/seller/services").get_data(as_text=True)
    assert "还没有添加服务" in page and "新增服务" in page


# ---------------------------------------------------------------- reviewer's listing queue

def test_the_queue_shows_listings_of_open_shops_only(client, auth, reviewer, make, provider):
    make.service(provider.provider, name="开店后提交的服务", status=ServiceStatus.PENDING)
    applicant = make.provider(shop_status=ShopStatus.PENDING)
    make.service(applicant.provider, name="随开店申请审核的服务", status=ServiceStatus.PENDING)
    auth.login(reviewer)
    page = client.get("/admin/listings").get_data(as_text=True)
    assert "开店后提交的服务" in page and "随开店申请审核的服务" not in page
    assert provider.provider.name in page and "SU8010" in page and "7-10个自然日" in page
    home = client.get("/admin/").get_data(as_text=True)
    assert "待审核服务上架" in home


def test_reviewer_approves_a_listing_and_it_goes_on_sale(client, auth, reviewer, make, provider):
    service = make.service(provider.provider, name="原子力显微镜表面形貌", status=ServiceStatus.PENDING)
    auth.login(reviewer)
    response = client.post(f"/admin/listings/{service.id}/approve", headers=HTMX)
    assert response.status_code == 200 and f'id="listing-{service.id}"' in response.get_data(as_text=True)
    fresh()
    after = db.session.get(Service, service.id)
    assert after.status == ServiceStatus.LISTED and after.published_at is not None
    entry = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "service")).one()
    assert (entry.actor_id, entry.action, entry.from_state, entry.to_state) == (reviewer.id, "approve", "pending",
                                                                               "listed")
    assert found(client, "显微", "原子力显微镜表面形貌")


def test_rejection_needs_a_reason_and_the_provider_reads_it(client, auth, reviewer, make, provider):
    service = make.service(provider.provider, status=ServiceStatus.PENDING)
    auth.login(reviewer)
    for headers in ({}, HTMX):
        refused = client.post(f"/admin/listings/{service.id}/reject", data={"reason": " "}, headers=headers)
        assert refused.status_code == 422 and "请填写不通过的原因" in refused.get_data(as_text=True)
    assert client.post(f"/admin/listings/{service.id}/reject", data={"reason": "样品要求未填写"}).status_code == 303
    fresh()
    assert db.session.get(Service, service.id).status == ServiceStatus.REJECTED
    assert audit_trail(service.id)[-1] == ("reject", "pending", "rejected")
    auth.logout()
    auth.login(provider)
    assert "样品要求未填写" in client.get("/seller/services").get_data(as_text=True)


@pytest.mark.parametrize("who", ["provider", "enterprise"])
def test_only_reviewers_decide_listings(client, auth, make, provider, who):
    service = make.service(provider.provider, status=ServiceStatus.PENDING)
    auth.login(provider if who == "provider" else make.enterprise())
    assert client.get("/admin/listings").status_code == 403
    assert client.post(f"/admin/listings/{service.id}/approve").status_code == 403
    fresh()
    assert db.session.get(Service, service.id).status == ServiceStatus.PENDING


# ---------------------------------------------------------------- the mall sees the result

def test_a_listed_service_is_found_and_a_delisted_one_disappears(client, auth, seller, reference, reviewer):
    post_service(client, reference, name="高分辨透射电镜成像", action="submit")
    service = only_service()
    assert not found(client, "透射", "高分辨透射电镜成像")
    auth.logout()
    auth.login(reviewer)
    client.post(f"/admin/listings/{service.id}/approve")
    assert found(client, "透射", "高分辨透射电镜成像")
    auth.logout()
    auth.login(seller)
    client.post(f"/seller/services/{service.id}/delist")
    assert not found(client, "透射", "高分辨透射电镜成像")
    assert client.get(f"/services/{service.id}").status_code == 404
