-- Each document goes straight into the GIN tree instead of a pending list. With the pending
-- list (fastupdate, the default), an upsert cost 1.1 ms instead of 2.4 ms, but every few
-- hundred articles the one whose upsert filled the list (4 MB) merged it into the tree itself:
-- 180-470 ms over 100,000 articles, in the commit → searchable path of that publish; and every
-- search read the whole pending list in between.
ALTER INDEX search.documents_tsv SET (fastupdate = off);
-- What is pending now moves into the tree now, rather than at the next vacuum.
SELECT gin_clean_pending_list('search.documents_tsv'::regclass);
