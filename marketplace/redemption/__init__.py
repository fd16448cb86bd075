"""Redemption (兑付): claims against the year's voucher — materials, review, publicity, payment (SPEC 7).

    claims.py    the claim's states and every move up to approval (start, submit, corrections, approve, reject,
                 pilot confirm), each audited and mirrored on the order's timeline
    readiness.py  whether a claim can be submitted: its amounts and every problem keeping it back, the declarations
    offline_checks.py  an offline claim's provider part (SPEC 7.3): the wizard's steps, a provider with an open shop
    settlement.py  after approval: publicity, objections, payment and the city's local matching
    ledger.py    the voucher's money: reserve / approve / release / revoke / disburse as guarded UPDATEs
    checks.py    the rules of SPEC 7.1 (file counts, totals, invoice numbers) the forms and the reviewer share
    invoice_numbers.py  an invoice number's canonical form (how it is stored and compared) and accepted formats
    access.py    who may read a claim's files: the enterprise, that order's provider, reviewers
    editor.py    the enterprise's claim page: materials uploader, contract amount, declarations, 暂存 / 提交
    offline.py   线下订单申请兑付: the two-step provider wizard before the materials
    flags.py     the risk flags the reviewer sees

The balance of the voucher is moved only through `ledger`."""
from flask import Blueprint

bp = Blueprint("redemption", __name__)
