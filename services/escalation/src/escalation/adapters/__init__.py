"""Adapters: the faust fact log glue, fold progress for read-your-writes, metrics."""
