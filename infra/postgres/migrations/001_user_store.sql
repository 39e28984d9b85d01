-- The custom-database user store: what Auth0's login, create, verify, change_password,
-- get_user and delete scripts read and write. Placeholders in double braces are replaced
-- with quoted identifiers before the migration runs.

-- migrate:up
CREATE FUNCTION {{schema}}.current_user_id() RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
  SELECT COALESCE(
    NULLIF(NULLIF(current_setting('hasura.user', true), '')::jsonb ->> 'x-hasura-user-id', ''),
    NULLIF(NULLIF(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '')
  )
$$;
COMMENT ON FUNCTION {{schema}}.current_user_id() IS
  'The user of this session: Hasura''s x-hasura-user-id, else the sub claim PostgREST/Supabase sets.';
REVOKE ALL ON FUNCTION {{schema}}.current_user_id() FROM PUBLIC;

CREATE FUNCTION {{schema}}.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION {{schema}}.touch_updated_at() FROM PUBLIC;

CREATE TABLE {{schema}}.users (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  email          text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 320 AND email = btrim(email) AND position('@' IN email) > 1),
  password_hash  text        NOT NULL CHECK (password_hash ~ '^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$'),
  nickname       text        CHECK (char_length(nickname) <= 255),
  email_verified boolean     NOT NULL DEFAULT false,
  app_metadata   jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(app_metadata) = 'object'),
  user_metadata  jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(user_metadata) = 'object'),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {{schema}}.users IS 'Auth0 custom-database user store (managed by Pulumi migrations).';
CREATE UNIQUE INDEX users_email_lower_key ON {{schema}}.users (lower(email));
CREATE TRIGGER users_touch_updated_at BEFORE UPDATE ON {{schema}}.users
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.touch_updated_at();

ALTER TABLE {{schema}}.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_scripts_all ON {{schema}}.users
  FOR ALL TO {{scripts_role}} USING (true) WITH CHECK (true);
CREATE POLICY users_app_own ON {{schema}}.users
  FOR SELECT TO {{app_role}} USING ('auth0|' || id::text = {{schema}}.current_user_id());

-- migrate:down
DROP TABLE IF EXISTS {{schema}}.users;
DROP FUNCTION IF EXISTS {{schema}}.touch_updated_at();
DROP FUNCTION IF EXISTS {{schema}}.current_user_id();
