"""The Excel workbook: the report a person opens on Monday morning."""
