-- How many times each event was applied: the cluster test's evidence of exactly once.
CREATE TABLE counter.applications (
    event_id   uuid PRIMARY KEY,
    article_id uuid NOT NULL,
    version    integer NOT NULL,
    times      integer NOT NULL DEFAULT 1
);
