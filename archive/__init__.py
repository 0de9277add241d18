"""The SQLite archive (sqlite-utils). Imports nothing from crawler/."""
