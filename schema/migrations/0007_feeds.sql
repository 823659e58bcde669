-- Feeds and sitemaps answer `If-Modified-Since` from one clock: the newest change to any
-- article that was ever published (an edit, an unpublish, a deletion, a kill). This index
-- makes that a single index probe; drafts that were never published do not move it.
CREATE INDEX articles_changed ON articles (updated_at DESC) WHERE published_at IS NOT NULL;
