"""The content-addressed block store: packs, index, backends, verify and gc."""
