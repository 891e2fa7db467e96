"""``python -m dipolehnl.detector SIREN_DIR [OUT_DIR]``: regenerate the shipped TOML models."""

from __future__ import annotations

from dipolehnl.detector.catalog import main

raise SystemExit(main())
