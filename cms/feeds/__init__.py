"""Feeds and sitemaps: RSS 2.0, Atom, the sitemap index and pages, the Google News sitemap.

Every answer is a query over the articles that are live now (read-only, through the read pool
like the delivery API), so an unpublish, a deletion or a kill takes an article out at once.
"""
