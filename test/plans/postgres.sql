-- 001_user_store (sha256 2249bcd05eabd0f0af90c2b436d7867684b6358f456a6b8caf74ab4495bfba55)
-- up
CREATE FUNCTION "auth0_app".current_user_id() RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
  SELECT COALESCE(
    NULLIF(NULLIF(current_setting('hasura.user', true), '')::jsonb ->> 'x-hasura-user-id', ''),
    NULLIF(NULLIF(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '')
  )
$$;
COMMENT ON FUNCTION "auth0_app".current_user_id() IS
  'The user of this session: Hasura''s x-hasura-user-id, else the sub claim PostgREST/Supabase sets.';
REVOKE ALL ON FUNCTION "auth0_app".current_user_id() FROM PUBLIC;

CREATE FUNCTION "auth0_app".touch_updated_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION "auth0_app".touch_updated_at() FROM PUBLIC;

CREATE TABLE "auth0_app".users (
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
COMMENT ON TABLE "auth0_app".users IS 'Auth0 custom-database user store (managed by Pulumi migrations).';
CREATE UNIQUE INDEX users_email_lower_key ON "auth0_app".users (lower(email));
CREATE TRIGGER users_touch_updated_at BEFORE UPDATE ON "auth0_app".users
  FOR EACH ROW EXECUTE FUNCTION "auth0_app".touch_updated_at();

ALTER TABLE "auth0_app".users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_scripts_all ON "auth0_app".users
  FOR ALL TO "auth0_scripts" USING (true) WITH CHECK (true);
CREATE POLICY users_app_own ON "auth0_app".users
  FOR SELECT TO "auth0_app_reader" USING ('auth0|' || id::text = "auth0_app".current_user_id());
-- down
DROP TABLE IF EXISTS "auth0_app".users;
DROP FUNCTION IF EXISTS "auth0_app".touch_updated_at();
DROP FUNCTION IF EXISTS "auth0_app".current_user_id();

-- 002_profiles (sha256 633f640ce0787d49958a2379ac4e631bcea2612e4b4cdbcc671dde063d6b2106)
-- up
CREATE TABLE "auth0_app".profiles (
  user_id    text        PRIMARY KEY CHECK (char_length(user_id) BETWEEN 1 AND 255),
  user_name  text        CHECK (char_length(user_name) <= 512),
  last_seen  timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE "auth0_app".profiles IS 'Auth0 users seen at login (written by the post-login sync Action).';

ALTER TABLE "auth0_app".profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY profiles_sync_all ON "auth0_app".profiles
  FOR ALL TO "auth0_sync" USING (true) WITH CHECK (true);
CREATE POLICY profiles_app_own ON "auth0_app".profiles
  FOR SELECT TO "auth0_app_reader" USING (user_id = "auth0_app".current_user_id());
-- down
DROP TABLE IF EXISTS "auth0_app".profiles;

-- 003_one_session_user (sha256 5df2e9581caed237783d9a8a8132c2a217d2483aa5e29dbe548e9cb6db4aa44f)
-- up
CREATE OR REPLACE FUNCTION "auth0_app".current_user_id() RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
  SELECT CASE
           WHEN hasura IS NOT NULL AND jwt IS NOT NULL AND hasura <> jwt THEN NULL
           ELSE COALESCE(hasura, jwt)
         END
    FROM (SELECT NULLIF(NULLIF(current_setting('hasura.user', true), '')::jsonb ->> 'x-hasura-user-id', '') AS hasura,
                 NULLIF(NULLIF(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '') AS jwt) AS ids
$$;
COMMENT ON FUNCTION "auth0_app".current_user_id() IS
  'The user of this session: Hasura''s x-hasura-user-id or the sub claim PostgREST/Supabase sets; none when both are set and differ.';
-- down
CREATE OR REPLACE FUNCTION "auth0_app".current_user_id() RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
  SELECT COALESCE(
    NULLIF(NULLIF(current_setting('hasura.user', true), '')::jsonb ->> 'x-hasura-user-id', ''),
    NULLIF(NULLIF(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '')
  )
$$;
COMMENT ON FUNCTION "auth0_app".current_user_id() IS
  'The user of this session: Hasura''s x-hasura-user-id, else the sub claim PostgREST/Supabase sets.';

-- security (DatabaseSecurity, on every up)
ALTER TABLE "auth0_app"."users" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "auth0_app"."users" FORCE ROW LEVEL SECURITY;
ALTER TABLE "auth0_app"."profiles" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "auth0_app"."profiles" FORCE ROW LEVEL SECURITY;
CREATE POLICY "users_scripts_all" ON "auth0_app"."users" AS PERMISSIVE FOR ALL TO "auth0_scripts" USING (true) WITH CHECK (true);
CREATE POLICY "users_app_own" ON "auth0_app"."users" AS PERMISSIVE FOR SELECT TO "auth0_app_reader" USING ('auth0|' || id::text = "auth0_app".current_user_id());
CREATE POLICY "profiles_sync_all" ON "auth0_app"."profiles" AS PERMISSIVE FOR ALL TO "auth0_sync" USING (true) WITH CHECK (true);
CREATE POLICY "profiles_app_own" ON "auth0_app"."profiles" AS PERMISSIVE FOR SELECT TO "auth0_app_reader" USING (user_id = "auth0_app".current_user_id());
REVOKE ALL ON FUNCTION "auth0_app"."current_user_id"() FROM PUBLIC;
REVOKE ALL ON FUNCTION "auth0_app"."touch_updated_at"() FROM PUBLIC;

-- grants
GRANT CONNECT ON DATABASE "postgres" TO "auth0_scripts";
GRANT CONNECT ON DATABASE "postgres" TO "auth0_sync";
GRANT USAGE ON SCHEMA "auth0_app" TO "auth0_scripts";
GRANT SELECT, INSERT, DELETE ON TABLE "auth0_app"."users" TO "auth0_scripts";
GRANT UPDATE ("password_hash", "email_verified") ON TABLE "auth0_app"."users" TO "auth0_scripts";
GRANT USAGE ON SCHEMA "auth0_app" TO "auth0_sync";
GRANT SELECT, INSERT ON TABLE "auth0_app"."profiles" TO "auth0_sync";
GRANT UPDATE ("user_name", "last_seen") ON TABLE "auth0_app"."profiles" TO "auth0_sync";
GRANT USAGE ON SCHEMA "auth0_app" TO "auth0_app_reader";
GRANT SELECT ON TABLE "auth0_app"."profiles" TO "auth0_app_reader";
GRANT SELECT ("id", "email", "nickname", "email_verified", "user_metadata", "created_at", "updated_at") ON TABLE "auth0_app"."users" TO "auth0_app_reader";
GRANT EXECUTE ON FUNCTION "auth0_app"."current_user_id"() TO "auth0_app_reader";
GRANT USAGE ON SCHEMA "auth0" TO "auth0_fdw_reader";
GRANT EXECUTE ON FUNCTION "auth0"."list_users"() TO "auth0_fdw_reader";
