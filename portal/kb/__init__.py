"""The knowledge base: home, categories and articles."""
