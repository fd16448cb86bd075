"""Statistics for the reviewer: grouped queries (queries), SVG charts (charts), the table behind each chart
(reports) and its Excel workbook (export)."""
