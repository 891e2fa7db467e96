"""From events to results: selection, efficiencies, exposures, statistics, scans, limits."""
