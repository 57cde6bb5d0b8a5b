"""Distributions: building them, what they are, their build environments, and proving they install."""
