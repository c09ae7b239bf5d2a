-- Rules the database itself enforces beyond Prisma's datamodel, applied after the
-- migrations at every start (src/db/schema-engine.ts). Idempotent: safe to run again.
-- They live here because Prisma's migration engine splits scripts at every semicolon,
-- function bodies included.

-- Append-only audit trail. The application never changes these rows, and these triggers
-- refuse it to anyone else short of a superuser who drops them first; what such a
-- superuser changes is found by the MACs and the signed checkpoints (README: Audit).
CREATE OR REPLACE FUNCTION "elevate_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

-- A trigger is (re)created only when it is missing or disabled: every other start takes no
-- lock on these tables, since dropping a trigger locks its table exclusively and an
-- instance starting beside running ones deadlocked with their audit appends.
DO $$
DECLARE
  audited text;
  guard record;
BEGIN
  FOREACH audited IN ARRAY ARRAY['AuditEvent', 'TaskExecution', 'AuditCheckpoint'] LOOP
    FOR guard IN SELECT * FROM (VALUES
        (audited || '_append_only', 'BEFORE UPDATE OR DELETE', 'FOR EACH ROW'),
        (audited || '_no_truncate', 'BEFORE TRUNCATE', 'FOR EACH STATEMENT')) AS g(name, timing, level)
    LOOP
      IF NOT EXISTS (SELECT 1 FROM pg_trigger
                     WHERE tgrelid = format('%I', audited)::regclass AND tgname = guard.name AND tgenabled <> 'D') THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', guard.name, audited);
        EXECUTE format('CREATE TRIGGER %I %s ON %I %s EXECUTE FUNCTION "elevate_refuse_change"()',
          guard.name, guard.timing, audited, guard.level);
      END IF;
    END LOOP;
  END LOOP;
END
$$;
