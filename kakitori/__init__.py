"""Kakitori (書き取り): offline RPA + AI-OCR workers for a city hall's clerical back office.

This package is the shared ground (config, logging, errors, data-directory layout, the command line) that
``ocr``, ``bots``, ``workflows`` and ``samples`` import; it imports none of them at module level.
"""

__version__ = "0.1.0"
