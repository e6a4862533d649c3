################################################################################
# Databases and their owners, as SQL
#
# Terraform has no PostgreSQL provider here, so it cannot create roles or
# databases inside the instance. The module renders them as one idempotent
# psql script (output database_bootstrap_sql) that a migration job runs with
# the master credentials from the Secrets Manager secret.
################################################################################

locals {
  owner_list    = sort(tolist(local.owners))
  database_list = sort(keys(var.databases))

  # Names are validated as [a-z][a-z0-9_]*, so quoting with "" and '' is safe.
  database_bootstrap_sql = join("\n", concat(
    [
      "-- Databases and owners of the RDS instance ${var.identifier}, rendered by terraform/modules/aws/rds.",
      "-- Idempotent: safe to run again. Run with psql (\\gexec), as the master user, on the postgres database:",
      "--   psql \"host=<address> port=${local.port} dbname=postgres user=${local.master_username} sslmode=verify-full sslrootcert=<rds-ca-rsa2048-g1 bundle>\" -f bootstrap.sql",
      "-- (the master password is in the Secrets Manager secret master_user_secret_arn).",
      "\\set ON_ERROR_STOP on",
      "",
      "-- 1. One login role per owner, without a password: they log in with IAM tokens.",
    ],
    [
      for owner in local.owner_list : <<-SQL
      DO $$
      BEGIN
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '${owner}') THEN
          CREATE ROLE "${owner}" LOGIN;
        END IF;
      END
      $$;
      SQL
    ],
    [
      "-- 2. CREATE DATABASE ... OWNER needs membership in the owner role (PostgreSQL 16: the",
      "--    implicit grant to the creator of a role is ADMIN only). Held only until step 4.",
    ],
    [for owner in local.owner_list : "GRANT \"${owner}\" TO CURRENT_USER;"],
    [
      "",
      "-- 3. The databases (CREATE DATABASE cannot run in a DO block, hence \\gexec). Only the owner",
      "--    and the master user may connect: no CONNECT or TEMPORARY for PUBLIC.",
    ],
    [
      for db in local.database_list : <<-SQL
      SELECT 'CREATE DATABASE "${db}" OWNER "${var.databases[db].owner}"'
      WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = '${db}')
      \gexec
      ALTER DATABASE "${db}" OWNER TO "${var.databases[db].owner}";
      REVOKE ALL ON DATABASE "${db}" FROM PUBLIC;
      GRANT CONNECT ON DATABASE "${db}" TO CURRENT_USER;
      SQL
    ],
    [
      "-- 4. Drop the temporary membership again (the creator keeps only PostgreSQL 16's ADMIN-only",
      "--    grant): the master user never inherits the privileges of an IAM-authenticated role.",
    ],
    [for owner in local.owner_list : "REVOKE \"${owner}\" FROM CURRENT_USER;"],
    [
      "",
      "-- 5. IAM authentication for the owners (rds_iam exists only on RDS; a member of rds_iam",
      "--    can no longer log in with a password).",
    ],
    [for owner in local.owner_list : "GRANT rds_iam TO \"${owner}\";"],
    [""],
  ))
}
