"""A claim's files are read only by the enterprise that made the claim, the provider of that claim's order and
approved reviewers (SPEC 9); everyone else gets the same 404 as for a file that does not exist."""
import pytest

from marketplace.extensions import db
from marketplace.models import RedemptionStatus as R

from .conftest import sign_in_as

ALLOWED = {"claimant": 200, "order_provider": 200, "reviewer": 200}
REFUSED = {"anonymous": 404, "enterprise": 404, "provider": 404, "individual": 404, "pending_reviewer": 404,
           "pending_provider": 404}
FILES = ("contract", "report", "rnd_proof", "invoice", "receipt")


@pytest.fixture
def claim(make, enterprise):
    make.voucher(enterprise)
    return make.claim(enterprise, status=R.SUBMITTED)


def file_of(claim, which: str) -> int:
    if which == "invoice":
        return claim.invoices[0].file_id
    if which == "receipt":
        return claim.receipts[0].file_id
    return next(m.file_id for m in claim.materials if m.kind == which)


@pytest.mark.parametrize("which", FILES)
@pytest.mark.parametrize("who,status", [*ALLOWED.items(), *REFUSED.items()])
def test_only_the_claimant_the_orders_provider_and_reviewers_download_claim_files(client, auth, make, enterprise,
                                                                                   claim, who, status, which):
    file_id = file_of(claim, which)
    if who == "claimant":
        auth.login(enterprise)
    elif who == "order_provider":
        auth.login(claim.order.provider.user)
    else:
        sign_in_as(auth, make, who)
    db.session.commit()
    response = client.get(f"/files/{file_id}")
    assert response.status_code == status
    if status == 200:
        assert "private" in response.headers["Cache-Control"]


def test_a_provider_reads_its_own_orders_claims_but_not_another_providers(client, auth, make, enterprise):
    make.voucher(enterprise)
    mine, theirs = make.claim(enterprise), make.claim(enterprise)
    auth.login(mine.order.provider.user)
    assert client.get(f"/files/{file_of(mine, 'contract')}").status_code == 200
    assert client.get(f"/files/{file_of(theirs, 'contract')}").status_code == 404
