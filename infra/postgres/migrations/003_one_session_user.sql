-- A session that names two different users is no user. Hasura sets hasura.user, PostgREST and
-- Supabase set request.jwt.claims; a session with the JWT's sub = A that also sets
-- hasura.user = B used to see B's rows (hasura.user came first). When both are present and
-- differ, current_user_id() is now NULL, so the policies match no row.

-- migrate:up
CREATE OR REPLACE FUNCTION {{schema}}.current_user_id() RETURNS text
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
COMMENT ON FUNCTION {{schema}}.current_user_id() IS
  'The user of this session: Hasura''s x-hasura-user-id or the sub claim PostgREST/Supabase sets; none when both are set and differ.';

-- migrate:down
CREATE OR REPLACE FUNCTION {{schema}}.current_user_id() RETURNS text
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
