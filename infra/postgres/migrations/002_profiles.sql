-- The profiles the post-login sync Action upserts on every login.

-- migrate:up
CREATE TABLE {{schema}}.profiles (
  user_id    text        PRIMARY KEY CHECK (char_length(user_id) BETWEEN 1 AND 255),
  user_name  text        CHECK (char_length(user_name) <= 512),
  last_seen  timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {{schema}}.profiles IS 'Auth0 users seen at login (written by the post-login sync Action).';

ALTER TABLE {{schema}}.profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY profiles_sync_all ON {{schema}}.profiles
  FOR ALL TO {{sync_role}} USING (true) WITH CHECK (true);
CREATE POLICY profiles_app_own ON {{schema}}.profiles
  FOR SELECT TO {{app_role}} USING (user_id = {{schema}}.current_user_id());

-- migrate:down
DROP TABLE IF EXISTS {{schema}}.profiles;
