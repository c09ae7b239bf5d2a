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

DO $$
DECLARE
  audited text;
BEGIN
  FOREACH audited IN ARRAY ARRAY['AuditEvent', 'TaskExecution', 'AuditCheckpoint'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', audited || '_append_only', audited);
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION "elevate_refuse_change"()',
      audited || '_append_only', audited);
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', audited || '_no_truncate', audited);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION "elevate_refuse_change"()',
      audited || '_no_truncate', audited);
  END LOOP;
END
$$;
