"""Commands: `flask --app app create-reviewer EMAIL`, `flask --app app seed-demo [--services N]`,
`flask --app app expire-orders` and `flask --app app close-publicity` (run both daily from cron / a systemd timer),
`flask --app app sweep-uploads [--dry-run] [--grace-minutes N]` (daily too), `flask --app app backup DEST` and
`flask --app app restore SRC [--yes]`."""
import time
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from . import audit
from .extensions import db
from .models import AccountStatus, Role, User, utcnow
from .ops.sweep import DEFAULT_GRACE_MINUTES


def register(app: Flask) -> None:
    app.cli.add_command(create_reviewer)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(expire_orders)
    app.cli.add_command(close_publicity)
    app.cli.add_command(sweep_uploads)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("create-reviewer")
@click.argument("email")
@click.option("--name", default="省统筹中心审核员", show_default=True)
@click.password_option(prompt="密码 (password)", confirmation_prompt=True)
def create_reviewer(email: str, name: str, password: str) -> None:
    """Create an approved reviewer account (the password is prompted for)."""
    email = email.strip().lower()
    if len(password) < 8:
        raise click.ClickException("密码至少8位")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise click.ClickException(f"{email} 已存在")
    user = User(email=email, phone="", name=name, password_hash=generate_password_hash(password),
                role=Role.REVIEWER, status=AccountStatus.ACTIVE, approved_at=utcnow())
    db.session.add(user)
    db.session.flush()
    audit.record("user", user.id, "create_reviewer", None, AccountStatus.ACTIVE, "flask create-reviewer")
    db.session.commit()
    click.echo(f"审核员账号已创建: {email}")


@click.command("seed-demo")
@click.option("--services", default=2000, show_default=True, help="How many services to generate in all.")
@click.option("--seed", default=20250327, show_default=True, help="Random seed (the demo is deterministic).")
def seed_demo_command(services: int, seed: int) -> None:
    """Fill an empty database with the demo catalog and demo accounts."""
    from .catalog.search_index import bulk_indexing
    from .demo import seed_demo
    from .demo.claims import seed_claims
    from .demo.vouchers import seed_licences

    started = time.perf_counter()
    with bulk_indexing(db.session):  # index once after loading, not row by row
        summary = seed_demo(db.session, services=services, seed=seed)
    if summary.get("skipped"):
        click.echo("数据库中已有服务目录，跳过演示数据。")
        return
    # Through the upload pipeline (and the claims module), so they need the app.
    seed_licences(db.session)
    seed_claims(db.session)
    db.session.commit()
    click.echo(f"演示数据: {summary['providers']} 个服务单位, {summary['instruments']} 台仪器, "
               f"{summary['services']} 项服务 ({time.perf_counter() - started:.1f}s)")
    click.echo("演示账号 (demo logins):")
    for role, email, password, note in summary["logins"]:
        click.echo(f"  {role:<6} {email:<24} {password}  {note}")


@click.command("expire-orders")
def expire_orders() -> None:
    """Expire orders no provider accepted within ORDER_ACCEPT_DAYS days (订单失效)."""
    from .orders.lifecycle import expire_stale

    days = current_app.config["ORDER_ACCEPT_DAYS"]
    count = expire_stale(days)
    db.session.commit()
    click.echo(f"{count} 个订单超过{days}天未接单，已失效。")


@click.command("close-publicity")
def close_publicity() -> None:
    """End the 兑付公示 whose period is over: claims without an open objection move to 待兑付."""
    from .redemption.settlement import close_publicity as close_due

    count = close_due()
    db.session.commit()
    click.echo(f"{count} 项兑付公示期满且无异议，已转入待兑付。")


@click.command("sweep-uploads")
@click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
@click.option("--grace-minutes", default=DEFAULT_GRACE_MINUTES, show_default=True, type=click.IntRange(min=0),
              help="Leave anything younger alone (an upload may not be committed yet).")
def sweep_uploads(dry_run: bool, grace_minutes: int) -> None:
    """Remove uploaded files no row refers to, and interrupted uploads (清理无引用的上传文件); prune throttling
    rows older than a week (过期的登录失败与短信记录)."""
    from .ops.sweep import prune_events, sweep_uploads as sweep
    from .uploads import format_size

    result = sweep(grace_minutes=grace_minutes, dry_run=dry_run)
    verb = "将删除" if dry_run else "已删除"
    for label, found in (("无引用的文件记录", result.rows), ("无记录的文件", result.stray_files),
                         ("中断的上传临时文件", result.temp_files)):
        click.echo(f"{verb}{label}: {found.count} 个, {format_size(found.size)}")
    pruned = prune_events(dry_run=dry_run)
    for label, table in (("过期的登录失败与短信发送记录", "login_attempts"), ("过期的短信验证码", "sms_codes")):
        click.echo(f"{verb}{label}: {pruned[table]} 条")
    if dry_run:
        click.echo("试运行 (dry run): 未做任何更改。")


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def backup_command(dest: Path) -> None:
    """Copy the database and the upload folder into DEST, with a manifest of checksums (备份)."""
    from .ops.backup import BackupError, backup

    try:
        manifest = backup(dest)
    except BackupError as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"备份完成 (backup written): {dest} — {manifest['database']}, "
               f"迁移版本 {manifest['alembic_revision']}, {manifest['file_count']} 个上传文件")


@click.command("restore")
@click.argument("src", type=click.Path(file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(src: Path, yes: bool) -> None:
    """Replace the database and the upload folder with the backup in SRC (恢复; checksums are verified first)."""
    from .ops.backup import BackupError, restore, verified_manifest

    try:
        manifest = verified_manifest(src)
        if not yes:
            click.confirm(f"用 {manifest['created_at']} 的备份覆盖当前数据库和上传文件？"
                          f"(replace the database and uploads with this backup?)", abort=True)
        restore(src, manifest)
    except BackupError as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"已恢复 (restored): {src} — {manifest['file_count']} 个上传文件")
