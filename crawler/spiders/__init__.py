"""Spiders: finding and fetching annual reports, one base spider per portal family (see families/)."""
