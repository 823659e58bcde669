-- People, not only tokens: users, their browser sessions, and sign-in throttling.

-- Roles in their order, so SQL can compare them (text compares admin < author < editor).
CREATE FUNCTION role_rank(role text) RETURNS integer LANGUAGE sql IMMUTABLE STRICT
    RETURN array_position(ARRAY['author', 'editor', 'admin'], role);

-- A person signs in with an email and a password; a machine (a script, a desk's integration)
-- has no password and acts through tokens only, under the name its tokens were created with.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('person', 'machine')),
    email         text,
    name          text NOT NULL CHECK (name <> ''),
    role          text NOT NULL CHECK (role IN ('admin', 'editor', 'author')),
    -- argon2id in PHC string form (parameters and salt included); machines have none.
    password_hash text,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_person_has_email CHECK ((kind = 'person') = (email IS NOT NULL)),
    CONSTRAINT users_machine_has_no_password CHECK (kind = 'person' OR password_hash IS NULL)
);

-- Emails are unique whatever their case: Ada@Example.org and ada@example.org are one person.
CREATE UNIQUE INDEX users_email ON users (lower(email)) WHERE email IS NOT NULL;
-- `cms token create --name X` reuses the machine called X.
CREATE UNIQUE INDEX users_machine_name ON users (name) WHERE kind = 'machine';
-- The admin list pages by creation.
CREATE INDEX users_created ON users (created_at, id);

-- Every token belongs to a user; the tokens that exist become machines named as they were, with
-- the highest role among their tokens (a token keeps its own role as its ceiling).
INSERT INTO users (id, kind, name, role, created_at)
SELECT gen_random_uuid(), 'machine', name,
       (ARRAY['author', 'editor', 'admin'])[max(role_rank(role))], min(created_at)
FROM api_tokens GROUP BY name;

ALTER TABLE api_tokens ADD COLUMN user_id uuid REFERENCES users (id);
UPDATE api_tokens SET user_id = users.id
FROM users WHERE users.kind = 'machine' AND users.name = api_tokens.name;
ALTER TABLE api_tokens ALTER COLUMN user_id SET NOT NULL;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Browser sessions, server side. The cookie holds 256 random bits; only their sha256 is stored,
-- so a copy of this table signs no one in. The CSRF token is derived from the secret, not stored.
CREATE TABLE sessions (
    id_hash         bytea PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Moves forward on use (never past expires_at): idle expiry.
    idle_expires_at timestamptz NOT NULL,
    -- Fixed at sign-in: absolute expiry.
    expires_at      timestamptz NOT NULL,
    address         text,
    CHECK (idle_expires_at <= expires_at)
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed sign-ins per scope: `pair` (account and address), `address`, `account`. A row counts the
-- failures of one window; it is pruned once its window has passed.
CREATE TABLE login_failures (
    scope         text NOT NULL CHECK (scope IN ('pair', 'address', 'account')),
    key           text NOT NULL,
    failures      integer NOT NULL CHECK (failures > 0),
    last_at       timestamptz NOT NULL,
    blocked_until timestamptz,
    PRIMARY KEY (scope, key)
);
CREATE INDEX login_failures_last ON login_failures (last_at);
