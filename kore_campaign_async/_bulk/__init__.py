"""Bulk work over many lists: create_many, sync and their outcomes."""
