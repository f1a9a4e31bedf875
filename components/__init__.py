"""Pure builders: data in, layout pieces and figures out. No queries here."""
