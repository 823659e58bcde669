-- The ad inventory: one row per (article, slot). A slot that leaves the page (unpublished,
-- deleted, or no longer in the layout) is kept inactive, so its id comes back with it.
CREATE TABLE ads.slots (
    article_id     uuid NOT NULL,
    slot_key       text NOT NULL,
    slot_id        uuid NOT NULL UNIQUE,
    ordinal        integer NOT NULL,
    position       text NOT NULL,
    sizes          text[] NOT NULL,  -- every size it takes
    desktop_sizes  text[] NOT NULL,
    mobile_sizes   text[] NOT NULL,
    after_block    integer,
    -- Key-values for the ad server: section, tags, language, word_count, iab_category,
    -- brand_safety, brand_safety_categories, position, slot.
    targeting      jsonb NOT NULL,
    section        text,
    language       text NOT NULL,
    brand_safety   text NOT NULL CHECK (brand_safety IN ('safe', 'sensitive', 'unsafe')),
    brand_safety_categories text[] NOT NULL DEFAULT '{}',
    active         boolean NOT NULL,
    article_version integer NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz,
    PRIMARY KEY (article_id, slot_key)
);

CREATE INDEX slots_active ON ads.slots (section, language, brand_safety) WHERE active;
CREATE INDEX slots_active_sizes ON ads.slots USING gin (sizes) WHERE active;
