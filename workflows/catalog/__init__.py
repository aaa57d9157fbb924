"""Automation candidate catalog: processes scored for RPA + AI-OCR suitability, with reports."""
