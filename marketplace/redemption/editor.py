"""The enterprise's claim page (placeholder until the materials uploader lands)."""
