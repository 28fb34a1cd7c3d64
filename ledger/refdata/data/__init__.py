"""The shipped reference data files, one JSON per financial year (``2025-26.json``).

A package only so that setuptools ships the JSON files as package data."""
