"""AI-OCR: scanned application forms to validated, structured records."""
