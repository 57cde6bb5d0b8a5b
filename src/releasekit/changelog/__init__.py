"""Where a project writes its release notes: one module per habit."""
