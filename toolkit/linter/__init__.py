"""The dataset linter: rules (``toolkit.linter.rules``), engine, configuration, reporters."""
