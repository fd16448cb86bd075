"""Reference data the reviewer keeps (SPEC 3.4, 1.5, 7.4): 服务领域, 服务类别 (two levels), 不支持的服务类型 and
the 服务承诺制 pilot providers. Every change is audited. A field or category in use is never deleted: the
listings using it would silently lose it."""
from dataclasses import dataclass, field as dataclass_field

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy import String, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, locks, policy
from ..extensions import db
from ..forms import Form
from ..htmx import is_htmx, redirect_htmx, render_either
from ..models import (
    Category,
    Field,
    Instrument,
    NonEligibleKind,
    Provider,
    Service,
    ShopStatus,
    UnitType,
    service_fields,
)
from ..pagination import paginate
from . import bp
from .queues import selected_ids
from .reference_forms import CategoryForm, KindForm, MoveForm, NameForm

# SPEC 1.5 item 1, with the words listings commonly use for them; reviewers edit both.
SPEC_KINDS = policy.NON_ELIGIBLE_KINDS
MAX_PILOT_MATCHES = 20


@dataclass
class SectionState:
    """What a list shows besides its rows: the add form, each row's problems and typed name, a notice."""
    form: Form | None = None
    problems: dict[int, list[str]] = dataclass_field(default_factory=dict)
    typed: dict[int, str] = dataclass_field(default_factory=dict)
    notice: str | None = None


# ---------------------------------------------------------------- 服务领域 and 服务类别 (one page)

@bp.get("/reference")
def reference():
    return render_template("admin/reference.html", **_fields_context(SectionState()),
                           **_categories_context(SectionState()))


@bp.post("/reference/fields")
def field_add():
    _one_change_at_a_time()
    form = NameForm()
    if not form.validate_on_submit() or _name_taken(form, select(Field.id)):
        return _answer("fields", SectionState(form=form), 422)
    item = Field(name=form.name.data, position=_next_position(select(Field.position)))
    return _created("fields", "field", item, f"已添加服务领域“{item.name}”")


@bp.post("/reference/fields/<int:item_id>/rename")
def field_rename(item_id: int):
    item = _get(Field, item_id)
    return _rename("fields", "field", item, select(Field.id).where(Field.id != item.id))


@bp.post("/reference/fields/<int:item_id>/move")
def field_move(item_id: int):
    item = _get(Field, item_id)
    return _move("fields", "field", item, select(Field))


@bp.post("/reference/fields/<int:item_id>/delete")
def field_delete(item_id: int):
    item = _get(Field, item_id)
    services, instruments = (uses.get(item.id, 0) for uses in _field_uses([item.id]))
    users = "、".join(([f"{services}项服务"] if services else []) + ([f"{instruments}台仪器"] if instruments else []))
    return _delete("fields", "field", item, f"有{users}使用该领域，不能删除" if users else None)


@bp.post("/reference/categories")
def category_add():
    _one_change_at_a_time()
    form = CategoryForm(_top_categories())
    if not form.validate_on_submit() or _name_taken(form, select(Category.id).where(Category.parent_id == form.parent)):
        return _answer("categories", SectionState(form=form), 422)
    siblings = select(Category.position).where(Category.parent_id == form.parent)
    item = Category(name=form.name.data, parent_id=form.parent, position=_next_position(siblings))
    where = f"“{db.session.get(Category, form.parent).name}”下" if form.parent else "一级"
    return _created("categories", "category", item, f"已在{where}添加服务类别“{item.name}”")


@bp.post("/reference/categories/<int:item_id>/rename")
def category_rename(item_id: int):
    item = _get(Category, item_id)
    siblings = select(Category.id).where(Category.parent_id == item.parent_id, Category.id != item.id)
    return _rename("categories", "category", item, siblings)


@bp.post("/reference/categories/<int:item_id>/move")
def category_move(item_id: int):
    item = _get(Category, item_id)
    return _move("categories", "category", item, select(Category).where(Category.parent_id == item.parent_id))


@bp.post("/reference/categories/<int:item_id>/delete")
def category_delete(item_id: int):
    item = _get(Category, item_id)
    children = len(item.children)
    services = _category_uses([item.id]).get(item.id, 0)
    refusal = (f"该分类下还有{children}个子分类，请先删除子分类" if children else
               f"有{services}项服务使用该分类，不能删除" if services else None)
    return _delete("categories", "category", item, refusal)


# ---------------------------------------------------------------- the changes, shared by both lists

def _created(section: str, kind: str, item, done: str):
    db.session.add(item)
    db.session.flush()
    audit.record(kind, item.id, "create", None, item.name)
    db.session.commit()
    return _answer(section, SectionState(notice=done))


def _rename(section: str, kind: str, item, siblings):
    _one_change_at_a_time()
    form = NameForm()
    if not form.validate_on_submit() or _name_taken(form, siblings):
        return _answer(section, SectionState(problems={item.id: form.name.errors}, typed={item.id: form.name.data}),
                       422)
    before, item.name = item.name, form.name.data
    if before != item.name:
        audit.record(kind, item.id, "rename", before, item.name)
    db.session.commit()
    return _answer(section, SectionState(notice=f"已将“{before}”改名为“{item.name}”"))


def _move(section: str, kind: str, item, siblings_stmt):
    """Swap with the neighbour above or below; siblings are renumbered 0, 1, 2 … so that equal positions
    (from older data) never make a move do nothing."""
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    siblings = list(db.session.scalars(siblings_stmt.order_by(type(item).position, type(item).id)))
    index = siblings.index(item)
    other = index - 1 if form.direction.data == "up" else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
        before = item.position
        for position, sibling in enumerate(siblings):
            sibling.position = position
        audit.record(kind, item.id, "move", str(before), str(item.position))
    db.session.commit()
    return _answer(section, SectionState(notice=f"已调整“{item.name}”的顺序"))


def _delete(section: str, kind: str, item, refusal: str | None):
    if refusal:
        return _answer(section, SectionState(problems={item.id: [refusal]}), 409)
    name = item.name
    audit.record(kind, item.id, "delete", name, None)
    db.session.delete(item)
    db.session.commit()
    return _answer(section, SectionState(notice=f"已删除“{name}”"))


def _answer(section: str, state: SectionState, status: int = 200):
    """HTMX: the list alone (it replaces itself). Without JS: back to the page after a change, or the page
    with the problem shown beside the row or the add form."""
    if status == 200 and not is_htmx():
        flash(state.notice, "success")
        return redirect(url_for("admin.reference") + f"#{section}", 303)
    sections = {"fields": _fields_context, "categories": _categories_context}
    if is_htmx():
        return render_template(f"admin/partials/reference_{section}.html", **sections[section](state)), status
    context = {name: build(state if name == section else SectionState()) for name, build in sections.items()}
    return render_template("admin/reference.html", **context["fields"], **context["categories"]), status


def _fields_context(state: SectionState) -> dict:
    fields = db.session.scalars(select(Field).order_by(Field.position, Field.id)).all()
    services, instruments = _field_uses([f.id for f in fields])
    return dict(fields=fields, field_services=services, field_instruments=instruments,
                fields_state=state, field_form=state.form or NameForm(formdata=None))


def _categories_context(state: SectionState) -> dict:
    tree = _top_categories()
    ids = [c.id for top in tree for c in (top, *top.children)]
    form = state.form or CategoryForm(tree, formdata=None)
    return dict(categories=tree, category_services=_category_uses(ids), categories_state=state, category_form=form)


def _top_categories() -> list[Category]:
    return db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                              .options(selectinload(Category.children)).order_by(Category.position, Category.id)).all()


def _field_uses(ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """(services, instruments) using each field, by field id; unused fields are absent."""
    services = db.session.execute(select(service_fields.c.field_id, func.count())
                                  .where(service_fields.c.field_id.in_(ids)).group_by(service_fields.c.field_id))
    instruments = db.session.execute(select(Instrument.field_id, func.count())
                                     .where(Instrument.field_id.in_(ids)).group_by(Instrument.field_id))
    return dict(services.all()), dict(instruments.all())


def _category_uses(ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(select(Service.category_id, func.count()).where(Service.category_id.in_(ids))
                              .group_by(Service.category_id))
    return dict(rows.all())


def _one_change_at_a_time() -> None:
    """Adds and renames queue on one lock (issue 15), so each checks names and the next position after the one
    before it committed: twenty 添加 at once add one item, not twenty with the same name and position."""
    locks.hold("admin-reference-names")


def _name_taken(form: Form, same_place) -> bool:
    """True (with the message beside the name) when `same_place` (ids of the siblings) has this name."""
    model = same_place.column_descriptions[0]["entity"]
    if db.session.scalar(same_place.where(model.name == form.name.data).limit(1)) is None:
        return False
    form.fail(form.name, f"已有名为“{form.name.data}”的{'服务领域' if model is Field else '同级分类'}")
    return True


def _next_position(positions) -> int:
    return (db.session.scalar(select(func.max(positions.subquery().c.position))) or 0) + 1


def _get(model, item_id: int):
    item = db.session.get(model, item_id)
    if item is None:
        abort(404)
    return item


# ---------------------------------------------------------------- 不支持的服务类型

@bp.get("/reference/kinds")
def kinds():
    return _kinds_page(KindForm(formdata=None))


@bp.post("/reference/kinds")
def kind_add():
    """A new kind opens on its own page, which lists the services it matches for the reviewer to mark."""
    _one_change_at_a_time()
    form = KindForm()
    if not form.validate_on_submit() or _name_taken(form, select(NonEligibleKind.id)):
        return _kinds_page(form), 422
    kind = _add_kind(form.name.data, form.keywords.data)
    db.session.commit()
    flash(f"已添加不支持的服务类型“{kind.name}”。下面列出名称或简介含有其关键词、仍标有创新券的服务，请核对后标记。",
          "success")
    return redirect(url_for("admin.kind_detail", kind_id=kind.id), 303)


@bp.post("/reference/kinds/defaults")
def kind_defaults():
    """The eight kinds SPEC 1.5 names, for a platform whose list is still empty (those already there are kept)."""
    _one_change_at_a_time()
    known = set(db.session.scalars(select(NonEligibleKind.name)))
    added = [_add_kind(name, keywords) for name, keywords in SPEC_KINDS if name not in known]
    db.session.commit()
    flash(f"已添加政策规定的{len(added)}类不支持的服务类型。" if added else "政策规定的类型都已在列表中。", "success")
    return redirect(url_for("admin.kinds"), 303)


@bp.get("/reference/kinds/<int:kind_id>")
def kind_detail(kind_id: int):
    kind = _get(NonEligibleKind, kind_id)
    return render_either("admin/reference_kind.html", "admin/partials/reference_kind_services.html",
                         **_kind_context(kind, KindForm(obj=kind, formdata=None)))


@bp.post("/reference/kinds/<int:kind_id>/edit")
def kind_edit(kind_id: int):
    kind = _get(NonEligibleKind, kind_id)
    form = KindForm()
    if not form.validate_on_submit() or _name_taken(form, select(NonEligibleKind.id)
                                                    .where(NonEligibleKind.id != kind.id)):
        return render_template("admin/reference_kind.html", **_kind_context(kind, form)), 422
    before = _kind_state(kind)
    kind.name, kind.keywords = form.name.data, form.keywords.data
    if before != _kind_state(kind):
        audit.record("non_eligible_kind", kind.id, "update", before, _kind_state(kind),
                     f"{before} → {_kind_state(kind)}")  # states are cut to 40 characters; the reason keeps all
    db.session.commit()
    flash(f"已保存“{kind.name}”。", "success")
    return redirect(url_for("admin.kind_detail", kind_id=kind.id), 303)


@bp.post("/reference/kinds/<int:kind_id>/delete")
def kind_delete(kind_id: int):
    kind = _get(NonEligibleKind, kind_id)
    name = kind.name
    audit.record("non_eligible_kind", kind.id, "delete", _kind_state(kind), None)
    db.session.delete(kind)
    db.session.commit()
    flash(f"已删除“{name}”。已标记为不支持创新券的服务保持不变。", "success")
    if is_htmx():  # asked to confirm first (hx-confirm): htmx navigates to the list, where the flash shows
        return redirect_htmx(make_response("", 200), url_for("admin.kinds"))
    return redirect(url_for("admin.kinds"), 303)


@bp.post("/reference/kinds/<int:kind_id>/mark")
def kind_mark(kind_id: int):
    """Take the 创新券 mark off the chosen services; only services this kind matches and still marked count."""
    kind = _get(NonEligibleKind, kind_id)
    wanted = selected_ids("service_id")
    services = db.session.scalars(matching_services(kind).where(Service.id.in_(wanted))).all()
    for service in services:
        audit.record("service", service.id, "voucher_ineligible", "eligible", "ineligible",
                     f"不支持的服务类型：{kind.name}")
        service.voucher_eligible = False
    db.session.commit()
    done = f"已将{len(services)}项服务标记为不支持创新券。" if services else "没有选中需要标记的服务。"
    if is_htmx():
        return render_template("admin/partials/reference_kind_services.html", **_kind_context(kind, None, done))
    flash(done, "success")
    return redirect(url_for("admin.kind_detail", kind_id=kind.id), 303)


def matching_services(kind: NonEligibleKind):
    """Services still marked 创新券 whose name or description holds one of the kind's terms (the same test as
    NonEligibleKind.matches, which the seller's form applies on save)."""
    columns = [func.lower(Service.name, type_=String), func.lower(Service.description, type_=String)]
    hits = [column.contains(term, autoescape=True) for term in kind.terms for column in columns]
    return (select(Service).where(Service.voucher_eligible.is_(True), or_(*hits))
            .options(joinedload(Service.provider)).order_by(Service.id))


def _add_kind(name: str, keywords: str) -> NonEligibleKind:
    position = _next_position(select(NonEligibleKind.position))
    kind = NonEligibleKind(name=name, keywords=keywords, position=position)
    db.session.add(kind)
    db.session.flush()
    audit.record("non_eligible_kind", kind.id, "create", None, _kind_state(kind), _kind_state(kind))
    return kind


def _kind_state(kind: NonEligibleKind) -> str:
    return f"{kind.name}（关键词：{kind.keywords or '无'}）"


def _kinds_page(form: KindForm):
    kinds = db.session.scalars(select(NonEligibleKind).order_by(NonEligibleKind.position, NonEligibleKind.id)).all()
    return render_template("admin/reference_kinds.html", kinds=kinds, form=form, spec_kinds=SPEC_KINDS)


def _kind_context(kind: NonEligibleKind, form: KindForm | None, notice: str | None = None) -> dict:
    page = paginate(matching_services(kind), current_app.config["PER_PAGE"])
    return dict(kind=kind, form=form, page=page, notice=notice)


# ---------------------------------------------------------------- 服务承诺制试点单位

@bp.get("/reference/pilots")
def pilots():
    """The pilots, and open providers found by name; the flag itself is set on each shop's page."""
    query = request.args.get("q", "").strip()[:100]
    found = []
    if query:
        found = db.session.scalars(select(Provider).where(Provider.status == ShopStatus.OPEN,
                                                          Provider.name.contains(query, autoescape=True))
                                   .order_by(Provider.name).limit(MAX_PILOT_MATCHES)).all()
    pilots = db.session.scalars(select(Provider).where(Provider.is_pilot.is_(True))
                                .order_by(Provider.city, Provider.name)).all()
    return render_either("admin/reference_pilots.html", "admin/partials/reference_pilot_search.html",
                         pilots=pilots, query=query, found=found, unit_types=UnitType.LABELS,
                         limit=MAX_PILOT_MATCHES)
