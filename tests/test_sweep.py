"""`flask sweep-uploads`: uploads nothing refers to are removed, referenced ones and their thumbnails kept,
anything younger than the grace period left alone, and a dry run changes nothing."""
import os
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from marketplace import uploads
from marketplace.extensions import db
from marketplace.models import Material, StoredFile, utcnow
from marketplace.ops.sweep import file_references
from marketplace.uploads.storage import thumbnail, upload_root

HOURS_AGO = 2


def age(*stored: StoredFile) -> None:
    """Make rows and their files (and thumbnails) look `HOURS_AGO` hours old."""
    db.session.execute(update(StoredFile).where(StoredFile.id.in_([s.id for s in stored]))
                       .values(created_at=utcnow() - timedelta(hours=HOURS_AGO)))
    db.session.commit()
    for s in stored:
        for path in uploads.path_of(s).parent.glob(uploads.path_of(s).stem + "*"):
            backdate(path)


def backdate(path: Path) -> None:
    then = time.time() - HOURS_AGO * 3600
    os.utime(path, (then, then))


def stray(name: str, data: bytes = b"left over") -> Path:
    path = upload_root() / "ab" / "cd" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def row_ids() -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(StoredFile.id)))


def test_every_foreign_key_to_stored_files_counts_as_a_reference():
    names = {f"{column.table.name}.{column.name}" for column in file_references()}
    assert {"materials.file_id", "invoices.file_id", "service_images.file_id", "providers.logo_file_id",
            "voucher_applications.stamped_sheet_file_id"} <= names


def test_sweep_removes_old_orphans_and_keeps_referenced_files_with_their_thumbnails(runner, make, enterprise):
    make.voucher(enterprise)
    claim = make.claim(enterprise, status="draft")
    kept = db.session.get(StoredFile, claim.receipts[0].file_id)
    kept_thumb = thumbnail(kept, 200)
    orphan = make.stored_png(enterprise, "没用上.png")
    orphan_thumb = thumbnail(orphan, 200)
    age(kept, orphan)
    lost = stray("0123456789abcdef0123456789abcdef.pdf")
    interrupted = upload_root() / "tmp" / "tmpabc.part"
    interrupted.write_bytes(b"half an upload")
    for path in (lost, interrupted):
        backdate(path)

    result = runner.invoke(args=["sweep-uploads"])

    assert result.exit_code == 0, result.output
    assert "已删除无引用的文件记录: 1 个" in result.output and "已删除无记录的文件: 1 个" in result.output
    assert "已删除中断的上传临时文件: 1 个" in result.output
    assert orphan.id not in row_ids() and kept.id in row_ids()
    assert not uploads.path_of(orphan).exists() and not orphan_thumb.exists()
    assert uploads.path_of(kept).exists() and kept_thumb.exists()
    assert not lost.exists() and not interrupted.exists()
    for material in db.session.scalars(select(Material)):
        assert uploads.path_of(material.file).exists()


def test_young_orphans_are_left_for_the_request_that_may_still_commit_them(runner, make, enterprise):
    just_saved = make.stored_pdf(enterprise)
    in_flight = stray("fedcba9876543210fedcba9876543210.png")
    uploading = upload_root() / "tmp" / "tmpxyz.part"
    uploading.write_bytes(b"arriving")

    result = runner.invoke(args=["sweep-uploads"])

    assert result.exit_code == 0, result.output
    assert just_saved.id in row_ids() and uploads.path_of(just_saved).exists()
    assert in_flight.exists() and uploading.exists()
    assert runner.invoke(args=["sweep-uploads", "--grace-minutes", "0"]).exit_code == 0
    assert just_saved.id not in row_ids() and not in_flight.exists() and not uploading.exists()


def test_a_dry_run_counts_what_would_go_and_changes_nothing(runner, make, enterprise):
    orphan = make.stored_png(enterprise)
    age(orphan)
    lost = stray("00112233445566778899aabbccddeeff.pdf", b"x" * 2048)
    backdate(lost)

    result = runner.invoke(args=["sweep-uploads", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "将删除无引用的文件记录: 1 个" in result.output and "将删除无记录的文件: 1 个, 2KB" in result.output
    assert "未做任何更改" in result.output
    assert orphan.id in row_ids() and uploads.path_of(orphan).exists() and lost.exists()
