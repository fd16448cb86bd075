"""Redemption (兑付): claims against the year's voucher — materials, review, publicity, payment (SPEC 7).

The balance of the voucher is moved only through `ledger` (reserve, approve, release, disburse)."""
