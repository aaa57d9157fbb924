"""Page objects: one module per legacy system, one class per screen, all of its selectors in that module."""
