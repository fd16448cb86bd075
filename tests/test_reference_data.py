"""The reviewer's reference data (/admin/reference): 服务领域, 服务类别, 不支持的服务类型, 服务承诺制试点单位."""
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, Category, Field, NonEligibleKind, Service
from marketplace.seller.service_forms import non_eligible_kind

from .conftest import NOT_REVIEWERS, sign_in_as
from .test_admin_kexiao import code as kexiao_code, entries as kexiao_entries, upload as kexiao_upload

HX = {"HX-Request": "true"}


@pytest.fixture
def signed_in(client, auth, reviewer):
    auth.login(reviewer)
    return reviewer


def fresh():
    db.session.commit()
    db.session.expire_all()


def audit_rows(object_type: str) -> list[tuple]:
    fresh()
    return [(row.object_id, row.action, row.from_state, row.to_state) for row in
            db.session.scalars(select(AuditLog).where(AuditLog.object_type == object_type).order_by(AuditLog.id))]


def field_names() -> list[str]:
    fresh()
    return list(db.session.scalars(select(Field.name).order_by(Field.position, Field.id)))


@pytest.fixture
def three_fields():
    fields = [Field(name=name, position=n) for n, name in enumerate(("生物医药", "新材料", "半导体"))]
    db.session.add_all(fields)
    db.session.commit()
    return fields


@pytest.fixture
def tree():
    top = Category(name="结构分析", position=1)
    children = [Category(name=name, parent=top, position=n)
                for n, name in enumerate(("物相与晶型分析", "分子结构分析"))]
    db.session.add(top)
    db.session.commit()
    return top, children


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
@pytest.mark.parametrize("method, path", [
    ("get", "/admin/reference"), ("post", "/admin/reference/fields"), ("post", "/admin/reference/fields/1/rename"),
    ("post", "/admin/reference/fields/1/move"), ("post", "/admin/reference/fields/1/delete"),
    ("post", "/admin/reference/categories"), ("post", "/admin/reference/categories/1/delete"),
    ("get", "/admin/reference/kinds"), ("post", "/admin/reference/kinds"), ("post", "/admin/reference/kinds/defaults"),
    ("get", "/admin/reference/kinds/1"), ("post", "/admin/reference/kinds/1/edit"),
    ("post", "/admin/reference/kinds/1/mark"), ("post", "/admin/reference/kinds/1/delete"),
    ("get", "/admin/reference/pilots"),
])
def test_only_reviewers_reach_reference_data(client, auth, make, three_fields, who, expected, method, path):
    sign_in_as(auth, make, who)
    response = getattr(client, method)(path, data={"name": "改掉", "direction": "up"})
    assert response.status_code == expected
    assert field_names() == ["生物医药", "新材料", "半导体"]


def test_a_post_without_csrf_changes_nothing(client, signed_in, three_fields):
    assert client.post("/admin/reference/fields", data={"name": "人工智能"}, csrf=False).status_code == 400
    assert "人工智能" not in field_names()


# ---------------------------------------------------------------- 服务领域

def test_reviewer_adds_a_field_at_the_end_and_it_is_audited(client, signed_in, three_fields):
    response = client.post("/admin/reference/fields", data={"name": " 人工智能 "})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/reference#fields")
    assert field_names() == ["生物医药", "新材料", "半导体", "人工智能"]
    assert audit_rows("field")[-1][1:] == ("create", None, "人工智能")


@pytest.mark.parametrize("name, message", [("", "请填写名称"), ("新材料", "已有名为“新材料”的服务领域"),
                                           ("长" * 51, "名称不超过50字")])
def test_a_bad_field_name_is_refused_beside_the_field_with_the_input_kept(client, signed_in, three_fields, name,
                                                                          message):
    for headers in ({}, HX):
        response = client.post("/admin/reference/fields", data={"name": name}, headers=headers)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert message in page
        assert f'value="{name}"' in page if name else True
        assert ("<html" in page) is not bool(headers)
    assert field_names() == ["生物医药", "新材料", "半导体"]


def test_renaming_a_field_answers_the_list_for_htmx_and_is_audited(client, signed_in, three_fields):
    response = client.post(f"/admin/reference/fields/{three_fields[2].id}/rename", data={"name": "集成电路"},
                           headers=HX)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.startswith("\n<div id=\"reference-fields\">") or '<div id="reference-fields">' in page[:200]
    assert "已将“半导体”改名为“集成电路”" in page
    assert field_names() == ["生物医药", "新材料", "集成电路"]
    assert audit_rows("field") == [(str(three_fields[2].id), "rename", "半导体", "集成电路")]


def test_renaming_to_a_taken_name_keeps_what_was_typed_beside_that_row(client, signed_in, three_fields):
    response = client.post(f"/admin/reference/fields/{three_fields[2].id}/rename", data={"name": "新材料"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="reference-fields-{three_fields[2].id}-error"' in page
    assert "已有名为“新材料”的服务领域" in page
    assert field_names() == ["生物医药", "新材料", "半导体"]
    assert audit_rows("field") == []


def test_moving_a_field_swaps_it_with_its_neighbour(client, signed_in, three_fields):
    response = client.post(f"/admin/reference/fields/{three_fields[2].id}/move", data={"direction": "up"})
    assert response.status_code == 303
    assert field_names() == ["生物医药", "半导体", "新材料"]
    client.post(f"/admin/reference/fields/{three_fields[2].id}/move", data={"direction": "up"}, headers=HX)
    assert field_names() == ["半导体", "生物医药", "新材料"]
    assert [row[1:] for row in audit_rows("field")] == [("move", "2", "1"), ("move", "1", "0")]


def test_moving_the_first_field_up_changes_nothing(client, signed_in, three_fields):
    client.post(f"/admin/reference/fields/{three_fields[0].id}/move", data={"direction": "up"})
    assert field_names() == ["生物医药", "新材料", "半导体"]
    assert audit_rows("field") == []


def test_an_unused_field_is_deleted_and_audited(client, signed_in, three_fields):
    gone = three_fields[0].id
    assert client.post(f"/admin/reference/fields/{gone}/delete").status_code == 303
    assert field_names() == ["新材料", "半导体"]
    assert audit_rows("field") == [(str(gone), "delete", "生物医药", None)]


def test_a_field_services_use_is_not_deleted_and_the_reviewer_is_told_how_many(client, signed_in, make, provider):
    make.service(provider.provider)
    make.service(provider.provider, name="透射电镜形貌分析")
    used = db.session.scalar(select(Field).where(Field.name == "新材料"))
    for headers in ({}, HX):
        response = client.post(f"/admin/reference/fields/{used.id}/delete", headers=headers)
        assert response.status_code == 409
        assert "有2项服务使用该领域，不能删除" in response.get_data(as_text=True)
    assert field_names() == ["新材料"]
    assert audit_rows("field") == []


# ---------------------------------------------------------------- 服务类别

def category_tree() -> list[tuple[str, list[str]]]:
    fresh()
    tops = db.session.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.position))
    return [(top.name, [child.name for child in top.children]) for top in tops]


def test_the_category_tree_is_listed_with_its_children(client, signed_in, tree):
    page = client.get("/admin/reference").get_data(as_text=True)
    assert page.index("结构分析") < page.index("物相与晶型分析") < page.index("分子结构分析")


def test_reviewer_adds_a_top_level_category_and_a_child(client, signed_in, tree):
    top, _ = tree
    assert client.post("/admin/reference/categories", data={"name": "无损检测", "parent_id": ""}).status_code == 303
    response = client.post("/admin/reference/categories", data={"name": "单晶结构分析", "parent_id": str(top.id)},
                           headers=HX)
    assert response.status_code == 200
    assert "已在“结构分析”下添加服务类别“单晶结构分析”" in response.get_data(as_text=True)
    assert category_tree() == [("结构分析", ["物相与晶型分析", "分子结构分析", "单晶结构分析"]), ("无损检测", [])]
    assert [row[1:] for row in audit_rows("category")] == [("create", None, "无损检测"),
                                                           ("create", None, "单晶结构分析")]


def test_a_child_cannot_get_children_of_its_own(client, signed_in, tree):
    _, children = tree
    response = client.post("/admin/reference/categories", data={"name": "三级", "parent_id": str(children[0].id)})
    assert response.status_code == 422
    assert "上级分类不存在，请重新选择" in response.get_data(as_text=True)


def test_the_same_name_is_refused_among_siblings_only(client, signed_in, tree):
    top, _ = tree
    refused = client.post("/admin/reference/categories", data={"name": "分子结构分析", "parent_id": str(top.id)})
    assert refused.status_code == 422
    assert "已有名为“分子结构分析”的同级分类" in refused.get_data(as_text=True)
    assert client.post("/admin/reference/categories", data={"name": "分子结构分析", "parent_id": ""}).status_code == 303


def test_renaming_and_moving_a_child_category(client, signed_in, tree):
    _, children = tree
    client.post(f"/admin/reference/categories/{children[1].id}/rename", data={"name": "分子结构鉴定"})
    client.post(f"/admin/reference/categories/{children[1].id}/move", data={"direction": "up"})
    assert category_tree() == [("结构分析", ["分子结构鉴定", "物相与晶型分析"])]
    assert [row[1:] for row in audit_rows("category")] == [("rename", "分子结构分析", "分子结构鉴定"),
                                                           ("move", "1", "0")]


def test_a_category_with_children_or_services_is_not_deleted(client, signed_in, tree, make, provider):
    top, children = tree
    make.service(provider.provider).category = children[0]
    db.session.commit()
    with_children = client.post(f"/admin/reference/categories/{top.id}/delete")
    assert with_children.status_code == 409
    assert "该分类下还有2个子分类" in with_children.get_data(as_text=True)
    used = client.post(f"/admin/reference/categories/{children[0].id}/delete", headers=HX)
    assert used.status_code == 409
    assert "有1项服务使用该分类，不能删除" in used.get_data(as_text=True)
    assert client.post(f"/admin/reference/categories/{children[1].id}/delete").status_code == 303
    assert client.post(f"/admin/reference/categories/{top.id}/delete").status_code == 409
    assert ("结构分析", ["物相与晶型分析"]) in category_tree()
    assert [row[1:] for row in audit_rows("category")] == [("delete", "分子结构分析", None)]


def test_unknown_rows_answer_404(client, signed_in):
    assert client.post("/admin/reference/fields/999/rename", data={"name": "x"}).status_code == 404
    assert client.post("/admin/reference/categories/999/delete").status_code == 404
    assert client.get("/admin/reference/kinds/999").status_code == 404


# ---------------------------------------------------------------- 不支持的服务类型

@pytest.fixture
def catalog(make, provider):
    """Two services a 商业检验 kind matches (name, description) and one it does not."""
    shop = provider.provider
    by_name = make.service(shop, name="出口商品商业验货")
    by_description = make.service(shop, name="纺织品抽样检验")
    by_description.description = "按合同对出口纺织品进行商业验货并出具报告。"
    other = make.service(shop, name="场发射扫描电镜形貌分析")
    db.session.commit()
    return by_name, by_description, other


def eligible(*services: Service) -> list[bool]:
    fresh()
    return [db.session.get(Service, service.id).voucher_eligible for service in services]


def test_adding_a_kind_shows_the_services_it_matches(client, signed_in, catalog):
    by_name, by_description, other = catalog
    response = client.post("/admin/reference/kinds", data={"name": "商业检验", "keywords": "商业验货，CCC"})
    assert response.status_code == 303
    kind = db.session.scalar(select(NonEligibleKind))
    assert response.headers["Location"].endswith(f"/admin/reference/kinds/{kind.id}")
    assert kind.keywords == "商业验货，CCC"
    assert kind.terms == ["商业检验", "商业验货", "ccc"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert by_name.name in page and by_description.name in page and other.name not in page
    assert audit_rows("non_eligible_kind") == [(str(kind.id), "create", None, "商业检验（关键词：商业验货，CCC）")]


def test_a_duplicate_or_empty_kind_is_refused_in_chinese(client, signed_in):
    db.session.add(NonEligibleKind(name="商业检验"))
    db.session.commit()
    for name, message in (("商业检验", "已有名为“商业检验”的"), ("", "请填写名称")):
        response = client.post("/admin/reference/kinds", data={"name": name, "keywords": "验货"})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
        assert 'value="验货"' in response.get_data(as_text=True)


def test_marking_matched_services_takes_their_voucher_mark_off_with_an_audit_row_each(client, signed_in, catalog):
    by_name, by_description, other = catalog
    kind = NonEligibleKind(name="商业检验", keywords="商业验货")
    db.session.add(kind)
    db.session.commit()
    # A service the kind does not match is ignored even if its id is sent.
    response = client.post(f"/admin/reference/kinds/{kind.id}/mark",
                           data={"service_id": [str(by_name.id), str(other.id), "x"]}, headers=HX)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "已将1项服务标记为不支持创新券" in page
    assert by_description.name in page and by_name.name not in page
    assert eligible(by_name, by_description, other) == [False, True, True]
    response = client.post(f"/admin/reference/kinds/{kind.id}/mark", data={"service_id": str(by_description.id)})
    assert response.status_code == 303
    assert eligible(by_name, by_description, other) == [False, False, True]
    assert audit_rows("service") == [(str(by_name.id), "voucher_ineligible", "eligible", "ineligible"),
                                      (str(by_description.id), "voucher_ineligible", "eligible", "ineligible")]
    assert db.session.scalar(select(AuditLog.reason).where(AuditLog.object_type == "service").limit(1)) == \
        "不支持的服务类型：商业检验"


def test_editing_and_deleting_a_kind_are_audited(client, signed_in):
    kind = NonEligibleKind(name="商业拍摄", keywords="")
    db.session.add(kind)
    db.session.commit()
    assert client.post(f"/admin/reference/kinds/{kind.id}/edit",
                       data={"name": "商业拍摄", "keywords": "广告拍摄  商业摄影"}).status_code == 303
    assert client.post(f"/admin/reference/kinds/{kind.id}/delete").status_code == 303
    assert db.session.scalar(select(NonEligibleKind)) is None
    assert [row[1:] for row in audit_rows("non_eligible_kind")] == [
        ("update", "商业拍摄（关键词：无）", "商业拍摄（关键词：广告拍摄 商业摄影）"),
        ("delete", "商业拍摄（关键词：广告拍摄 商业摄影）", None)]


def test_the_policys_eight_kinds_are_filled_in_once(client, signed_in):
    db.session.add(NonEligibleKind(name="商业检验", keywords="自定义"))
    db.session.commit()
    client.post("/admin/reference/kinds/defaults")
    client.post("/admin/reference/kinds/defaults")
    fresh()
    kinds = {kind.name: kind.keywords for kind in db.session.scalars(select(NonEligibleKind))}
    assert set(kinds) == {"法定认证", "执法检验", "强制检测", "商业检验", "商业拍摄", "医疗服务", "通信计费",
                          "批量商品检验"}
    assert kinds["商业检验"] == "自定义"
    assert len(audit_rows("non_eligible_kind")) == 7


def test_a_kind_matches_latin_keywords_in_any_case():
    kind = NonEligibleKind(name="法定认证", keywords="CCC认证, 3C认证")
    assert kind.matches("办理ccc认证送样")
    assert not kind.matches("扫描电镜形貌分析")


def test_a_seller_saving_a_service_of_a_non_eligible_kind_loses_the_voucher_mark(client, auth, make, provider):
    """The one check of the catalog (seller/service_forms.py) reads the reviewer's list."""
    shop = provider.provider
    field = Field(name="新材料", position=1)
    child = Category(name="性能测试", parent=Category(name="检验检测", position=1), position=1)
    db.session.add_all([field, child, NonEligibleKind(name="商业检验", keywords="商业验货")])
    db.session.commit()
    assert non_eligible_kind("出口商品商业验货", "").name == "商业检验"
    auth.login(provider)
    response = client.post("/seller/services/new", data={
        "nature": "testing", "name": "出口商品商业验货", "description": "按合同对出口商品抽样验货，出具验货报告，" * 2,
        "service_type": "普通服务", "cycle": "3天", "has_qualification": "0", "category_id": str(child.id),
        "field_ids": [str(field.id)], "price": "800", "price_unit": "元/批", "tags": "", "qualification_desc": "",
        "standards": "", "sample_requirements": "", "instrument_id": "", "voucher_eligible": "y", "action": "save"},
        content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    fresh()
    service = db.session.scalar(select(Service).where(Service.provider_id == shop.id))
    assert not service.voucher_eligible
    assert ("服务内容属于创新券不支持的服务类型（商业检验），已取消创新券标识"
            in client.get("/seller/services").get_data(as_text=True))


# ---------------------------------------------------------------- 服务承诺制试点单位

def test_pilots_are_listed_with_a_link_to_their_shop_page(client, signed_in, make):
    pilot = make.provider(name="南京大学现代分析中心").provider
    pilot.is_pilot = True
    make.provider(name="南京某检测公司")
    db.session.commit()
    page = client.get("/admin/reference/pilots").get_data(as_text=True)
    assert "南京大学现代分析中心" in page and "南京某检测公司" not in page
    assert f'href="/admin/shops/{pilot.id}"' in page


def test_an_open_provider_is_found_by_name_to_flag(client, signed_in, make):
    wanted = make.provider(name="徐州市检验检测中心").provider
    make.provider(name="徐州市待审检测所", shop_status="pending")
    for headers in ({}, HX):
        response = client.get("/admin/reference/pilots?q=徐州市", headers=headers)
        page = response.get_data(as_text=True)
        assert "徐州市检验检测中心" in page and "徐州市待审检测所" not in page
        assert f'href="/admin/shops/{wanted.id}"' in page
        assert ("<html" in page) is not bool(headers)


# ---------------------------------------------------------------- 科小名单: Excel import

def xlsx(*rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def test_an_excel_registry_is_imported_like_the_same_csv(client, signed_in):
    rows = [("2025320100000001", "南京甲科技有限公司", kexiao_code(1)),
            ("2025320100000002", "南京乙科技有限公司", kexiao_code(2))]
    data = xlsx(("2025年度科技型中小企业入库名单",), (), ("入库编号", "企业名称", "统一社会信用代码"),
                (20253201000001, "南京丙科技有限公司", kexiao_code(3)), *rows)
    response = kexiao_upload(client, data, name="名单.xlsx")
    assert response.status_code == 303, response.get_data(as_text=True)
    imported = kexiao_entries()
    assert imported["20253201000001"] == ("南京丙科技有限公司", kexiao_code(3))  # a number cell, read as text
    csv_rows = "\r\n".join(["入库编号,企业名称,统一社会信用代码", *(",".join(row) for row in rows)]).encode()
    kexiao_upload(client, csv_rows, year=2024)
    assert {k: v for k, v in imported.items() if k != "20253201000001"} == kexiao_entries(2024)
    assert audit_rows("kexiao_registry")[-2][1] == "import"


def test_bad_rows_of_an_excel_registry_are_listed_by_row_number_and_nothing_is_imported(client, signed_in):
    data = xlsx(("入库编号", "企业名称", "统一社会信用代码"), ("N1", "甲公司", kexiao_code(1)),
                ("N2", None, kexiao_code(2)), ("N1", "丙公司", "123"))
    response = kexiao_upload(client, data, name="名单.xlsx")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "第3行：企业名称为空" in page
    assert "第4行：入库编号N1与第2行重复" in page
    assert kexiao_entries() == {}


@pytest.mark.parametrize("data, message", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "这是旧版Excel（.xls）文件"),
    (b"PK\x03\x04 not really a zip", "文件无法作为Excel工作簿（.xlsx）读取"),
    (xlsx(("企业", "编号")), "找不到表头"),
])
def test_an_unreadable_excel_file_is_refused_with_a_clear_message(client, signed_in, data, message):
    response = kexiao_upload(client, data, name="名单.xlsx")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert kexiao_entries() == {}


def test_the_service_form_names_the_non_eligible_kinds_next_to_the_voucher_mark(client, auth, provider):
    db.session.add(NonEligibleKind(name="商业拍摄", keywords="广告拍摄", position=1))
    db.session.commit()
    auth.login(provider)
    page = client.get("/seller/services/new").get_data(as_text=True)
    assert "服务内容属于以下类型的也不能标记：商业拍摄" in page
