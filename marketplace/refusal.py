"""The one base of every refusal: a move a rule does not allow, with the reason in Chinese as its message.

Each area raises its own subclass (vouchers.lifecycle.Refused, orders.lifecycle.Refused, claims.Refused,
ledger.BalanceRefused, listing_lifecycle.IllegalTransition, shop_lifecycle.Refused, admin.kexiao.ImportRefused,
accounts.lifecycle.Refused); admin.decisions answers any of them the same way. Plain Python: no Flask here.
"""


class Refused(Exception):
    """A move the object's state or content does not allow; str(refusal) says why, for the user to read."""
