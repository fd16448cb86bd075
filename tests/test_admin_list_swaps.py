"""Paged admin lists swap themselves whole: the pager's htmx links target the list's own element, so the element
must say outerHTML (inherited by the links), or page 2 would nest a second list inside the first."""
import re

import pytest

from marketplace.extensions import db

LISTS = {"/admin/providers?status=all": "provider-list", "/admin/audit": "audit-list",
         "/admin/redemptions?status=all": "redemption-list"}


@pytest.mark.parametrize("path,list_id", LISTS.items())
def test_a_paged_list_replaces_itself_instead_of_nesting(app, client, auth, make, reviewer, path, list_id):
    app.config["PER_PAGE"] = 1
    make.provider()
    make.provider()
    db.session.commit()
    auth.login(reviewer)
    page = client.get(path).get_data(as_text=True)
    element = re.search(rf'<div id="{list_id}"[^>]*>', page)
    assert element and 'hx-swap="outerHTML"' in element.group(0)
