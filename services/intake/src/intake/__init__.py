"""Intake: validates, dedupes, links, tokenises, sequences and chains the case stream."""
