"""Every module that attaches routes or template globals to a blueprint, imported once by create_app.

A blueprint package's __init__ only makes its `bp`; its route modules attach to it when imported here. So a
rule module (vouchers.lifecycle, orders.lifecycle, redemption.claims, …) can be imported from anywhere without
running a package's views, and the modules import each other without a cycle (tests/test_import_graph.py).
"""
from .accounts import routes as accounts_routes
from .admin import (
    audit_log,
    cities,
    complaints,
    kexiao,
    listings,
    menu,
    orders as admin_orders,
    payments,
    providers,
    redemptions,
    reference,
    routes as admin_routes,
    shops,
    stats,
    vouchers,
)
from .api import routes as api_routes
from .catalog import (  # search_index: the listeners that keep search tokens current
    routes as catalog_routes,
    search_index,
    search_views,
)
from .orders import bp as orders_bp, buyer, cart, checkout, feedback, lifecycle, messages
from .redemption import access, bp as redemption_bp, editor, offline
from .seller import instruments, orders as seller_orders, services, settings, shop
from .vouchers import bp as vouchers_bp, local, routes as voucher_routes

# Template globals the views share, attached once (a blueprint takes no setup after its first registration).
# {{ refused_cancellation(order) }}: the last 拒绝取消 both order pages show until a new request
orders_bp.add_app_template_global(lifecycle.refused_cancellation, "refused_cancellation")
redemption_bp.add_app_template_global(editor.editor_url, "claim_url")  # {{ claim_url(claim) }}: the claim's page
vouchers_bp.add_app_template_global(local.voucher_city, "voucher_city")  # {{ voucher_city(voucher.application) }}
