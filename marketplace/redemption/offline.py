"""线下订单申请兑付 (placeholder until the wizard lands)."""
