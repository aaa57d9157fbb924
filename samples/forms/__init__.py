"""Sample forms: blank form drawings, their templates, and the filled-form generator."""
